-- Match probes: which distinct criteria a consent token has brought to each candidate record, so
-- that varying the criteria around one person (guessing a birth date digit by digit) runs out of
-- budget. Keyed by digests only: no criteria and no source id are kept. Led by the grantor.
CREATE TABLE match_probes (
  partner_id uuid NOT NULL REFERENCES partners (id),
  jti text NOT NULL,
  record_key text NOT NULL,
  criteria_key text NOT NULL,
  first_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (partner_id, jti, record_key, criteria_key)
);

-- Erasure tombstones: an erased source id stays erased; a later upload naming it is refused for
-- that row, until the partner lifts the tombstone. The key is an HMAC of the source id with the
-- exchange's secret, so the table holds no personal data and cannot be reversed by guessing ids.
CREATE TABLE erasure_tombstones (
  partner_id uuid NOT NULL REFERENCES partners (id),
  dataset_id uuid NOT NULL,
  source_key text NOT NULL,
  erased_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (partner_id, dataset_id, source_key),
  FOREIGN KEY (partner_id, dataset_id) REFERENCES datasets (partner_id, id)
);
