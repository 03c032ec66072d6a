-- Foundation: partners, their API keys, and the append-only audit log.
-- Tables that hold a partner's data carry partner_id first in their key so that they can be
-- distributed by partner with Citus; partners and api_keys would be reference tables.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS fuzzystrmatch;

CREATE TABLE partners (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  slug text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Only a SHA-256 of each key is stored: keys are 256-bit random secrets, so a fast hash is
-- enough (no dictionary to guess from) and lets authentication be one index lookup.
CREATE TABLE api_keys (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  partner_id uuid REFERENCES partners (id),
  role text NOT NULL CHECK (role IN ('partner', 'auditor', 'admin')),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  prefix text NOT NULL,
  key_hash text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  revoked_at timestamptz,
  -- A partner key acts for one partner; auditors and admins act for the exchange.
  CHECK ((role = 'partner') = (partner_id IS NOT NULL))
);
CREATE INDEX api_keys_partner_idx ON api_keys (partner_id);

CREATE TABLE audit_events (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  occurred_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  actor_type text NOT NULL CHECK (actor_type IN ('api_key', 'operator', 'system')),
  actor_id text,
  partner_id uuid,
  action text NOT NULL,
  target_type text NOT NULL,
  target_id text,
  outcome text NOT NULL CHECK (outcome IN ('success', 'denied', 'failure')),
  request_id text,
  details jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_events_partner_idx ON audit_events (partner_id, occurred_at);
CREATE INDEX audit_events_action_idx ON audit_events (action, occurred_at);

-- Append-only: the log can grow, never change.
CREATE FUNCTION audit_events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_events is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER audit_events_append_only
  BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_events
  FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse_change();
