-- Datasets, uploads and the canonical customer records they bring.
-- Every table leads with partner_id so it can be distributed by partner (Citus: distribution
-- column partner_id, co-located), and every foreign key includes it.

CREATE TABLE datasets (
  partner_id uuid NOT NULL REFERENCES partners (id),
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  description text CHECK (length(description) <= 2000),
  default_mapping text,
  standard_version text NOT NULL DEFAULT '1.0.0',
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (partner_id, id),
  UNIQUE (partner_id, name)
);

CREATE TABLE uploads (
  partner_id uuid NOT NULL,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  dataset_id uuid NOT NULL,
  status text NOT NULL CHECK (status IN ('completed', 'rejected')),
  idempotency_key text,
  mapping text,
  content_type text NOT NULL,
  bytes bigint NOT NULL,
  accepted integer NOT NULL,
  rejected integer NOT NULL,
  inserted integer NOT NULL,
  updated integer NOT NULL,
  unchanged integer NOT NULL,
  report jsonb NOT NULL,
  reason text,
  -- Milliseconds, like the record versions it creates (see src/store/records.ts).
  created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
  PRIMARY KEY (partner_id, id),
  FOREIGN KEY (partner_id, dataset_id) REFERENCES datasets (partner_id, id)
);
-- A retry with the same Idempotency-Key finds the first upload instead of loading twice.
CREATE UNIQUE INDEX uploads_idempotency_idx ON uploads (partner_id, dataset_id, idempotency_key) WHERE idempotency_key IS NOT NULL;

-- Time-variant and insert-mostly: a changed record gets a new version; the old one is closed
-- (valid_to set), never overwritten. Erasure nulls the personal data of every version.
CREATE TABLE customer_records (
  partner_id uuid NOT NULL,
  dataset_id uuid NOT NULL,
  source_id text NOT NULL,
  version integer NOT NULL,
  upload_id uuid,
  valid_from timestamptz NOT NULL,
  valid_to timestamptz,
  record jsonb,
  erased_at timestamptz,
  -- Comparison forms for candidate retrieval (see src/match/keys.ts); null after erasure.
  full_name_key text,
  given_name_key text,
  family_name_key text,
  family_phonetic text,
  birth_date date,
  birth_year smallint,
  postcode_key text,
  email_keys text[],
  phone_keys text[],
  PRIMARY KEY (partner_id, dataset_id, source_id, version),
  FOREIGN KEY (partner_id, dataset_id) REFERENCES datasets (partner_id, id)
) WITH (fillfactor = 90);

-- Queries see current versions: partial indexes keep them small.
CREATE UNIQUE INDEX customer_records_current_idx ON customer_records (partner_id, dataset_id, source_id) WHERE valid_to IS NULL;
CREATE INDEX customer_records_name_trgm_idx ON customer_records USING gin (full_name_key gin_trgm_ops) WHERE valid_to IS NULL;
CREATE INDEX customer_records_phonetic_idx ON customer_records (partner_id, family_phonetic, birth_year) WHERE valid_to IS NULL;
CREATE INDEX customer_records_birth_date_idx ON customer_records (partner_id, birth_date) WHERE valid_to IS NULL;
CREATE INDEX customer_records_postcode_idx ON customer_records (partner_id, postcode_key) WHERE valid_to IS NULL;
CREATE INDEX customer_records_email_idx ON customer_records USING gin (email_keys) WHERE valid_to IS NULL;
CREATE INDEX customer_records_phone_idx ON customer_records USING gin (phone_keys) WHERE valid_to IS NULL;
