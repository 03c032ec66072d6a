-- A partner's own mappings (drafted with cx mappings suggest and reviewed, or written by hand):
-- validated when saved, named apart from the shipped ones, used by its datasets and uploads.
CREATE TABLE partner_mappings (
  partner_id uuid NOT NULL REFERENCES partners (id),
  name text NOT NULL,
  mapping jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (partner_id, name)
);
