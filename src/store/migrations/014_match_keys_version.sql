-- Which version of the match-key extractor (MATCH_KEYS_VERSION in src/match/features.ts) computed
-- a row's key columns. Rows stored before are version 1 and are rekeyed at start
-- (rekeyStaleRecords); rows written from now on take the default.
ALTER TABLE customer_records ADD COLUMN keys_version smallint NOT NULL DEFAULT 1;
ALTER TABLE customer_records ALTER COLUMN keys_version SET DEFAULT 2;
CREATE INDEX customer_records_stale_keys_idx ON customer_records (partner_id) WHERE keys_version < 2;
-- Rows staged by an upload that a stop interrupted were keyed by the old extractor; that upload
-- cannot finish anyway (src/store/loading.ts), and its client sends it again.
DELETE FROM upload_staging_rows;
