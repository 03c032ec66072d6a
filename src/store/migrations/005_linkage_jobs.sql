-- Batch linkage jobs: one of a partner's datasets against a grantor's, under consent, run in the
-- background; their links are kept for paging and download. Led by the grantee's partner_id.
CREATE TABLE linkage_jobs (
  partner_id uuid NOT NULL REFERENCES partners (id),
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  grantor_id uuid NOT NULL REFERENCES partners (id),
  left_dataset_id uuid NOT NULL,
  right_dataset_id uuid NOT NULL,
  purpose text NOT NULL,
  jti text NOT NULL,
  options jsonb NOT NULL,
  status text NOT NULL CHECK (status IN ('queued', 'running', 'completed', 'failed')),
  progress jsonb NOT NULL DEFAULT '{}'::jsonb,
  error text,
  links integer,
  created_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  PRIMARY KEY (partner_id, id),
  FOREIGN KEY (partner_id, left_dataset_id) REFERENCES datasets (partner_id, id)
);

CREATE TABLE linkage_results (
  partner_id uuid NOT NULL,
  job_id uuid NOT NULL,
  rank integer NOT NULL,
  left_id text NOT NULL,
  right_id text NOT NULL,
  probability double precision NOT NULL,
  match_weight double precision NOT NULL,
  grade text NOT NULL,
  cluster text,
  PRIMARY KEY (partner_id, job_id, rank),
  FOREIGN KEY (partner_id, job_id) REFERENCES linkage_jobs (partner_id, id)
);
