-- Candidate retrieval for the matcher (src/store/candidates.ts): identifier keys, the given name's
-- phonetic code, and the indexes each blocking rule uses. All partial on current versions and led
-- by partner_id, like the others.
ALTER TABLE customer_records ADD COLUMN identifier_keys text[];
ALTER TABLE customer_records ADD COLUMN given_phonetic text;
CREATE INDEX customer_records_identifier_idx ON customer_records USING gin (identifier_keys) WHERE valid_to IS NULL;
CREATE INDEX customer_records_family_name_idx ON customer_records (partner_id, family_name_key) WHERE valid_to IS NULL;
CREATE INDEX customer_records_given_phonetic_idx ON customer_records (partner_id, given_phonetic, family_phonetic) WHERE valid_to IS NULL;
CREATE INDEX customer_records_given_name_idx ON customer_records (partner_id, given_name_key) WHERE valid_to IS NULL;
