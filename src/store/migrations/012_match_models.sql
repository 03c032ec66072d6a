-- Per-dataset match models: trained in the background on one of a partner's own datasets (and
-- nothing of another partner's), kept with everything they were trained with. A dataset names the
-- model its matches and linkage jobs use; none means the shipped default. Led by partner_id.
CREATE TABLE match_models (
  partner_id uuid NOT NULL REFERENCES partners (id),
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  dataset_id uuid NOT NULL,
  status text NOT NULL CHECK (status IN ('training', 'ready', 'failed')),
  model jsonb,
  error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  PRIMARY KEY (partner_id, id),
  FOREIGN KEY (partner_id, dataset_id) REFERENCES datasets (partner_id, id)
);

ALTER TABLE datasets ADD COLUMN model_id uuid;
ALTER TABLE datasets ADD FOREIGN KEY (partner_id, model_id) REFERENCES match_models (partner_id, id);
