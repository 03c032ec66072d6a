-- A first load into a dataset on the embedded engine commits in slices, so that the one
-- connection answers other requests between them. Until its last slice commits, the dataset names
-- the upload loading into it, and no reader sees the dataset's records (src/store/loading.ts).
ALTER TABLE datasets ADD COLUMN loading_upload_id uuid;

-- A later upload on the embedded engine stages its batches here, each in a transaction of its own,
-- while the body is still arriving; only publishing them as versions holds the connection for
-- the upload's one transaction. Rows live from the upload's start to its end (or to the next start,
-- after a crash).
CREATE TABLE upload_staging_rows (
  partner_id uuid NOT NULL,
  upload_id uuid NOT NULL,
  row_no integer NOT NULL,
  source_id text NOT NULL,
  record jsonb NOT NULL,
  full_name_key text,
  given_name_key text,
  family_name_key text,
  family_phonetic text,
  birth_date date,
  birth_year smallint,
  postcode_key text,
  email_keys text[],
  phone_keys text[],
  identifier_keys text[],
  given_phonetic text,
  PRIMARY KEY (partner_id, upload_id, source_id)
);
