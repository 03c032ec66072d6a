-- The audit log as a transparency log: an RFC 6962 Merkle tree over the events, kept as
-- tlog-tiles, with signed C2SP checkpoints. Events are written in the transaction of the change
-- they record, and queued (audit_log_pending, the outbox); one integrator at a time gives them
-- their index, in batches. The log is the exchange's, one for every partner: its tables lead with
-- the log index rather than partner_id (on Citus they stay on the coordinator).

-- The partner whose key acted, beside the partner the event is about: a partner reads both.
ALTER TABLE audit_events ADD COLUMN actor_partner_id uuid;
CREATE INDEX audit_events_actor_partner_idx ON audit_events (actor_partner_id, occurred_at) WHERE actor_partner_id IS NOT NULL;
CREATE INDEX audit_events_occurred_idx ON audit_events (occurred_at, id);

CREATE TABLE audit_log_pending (event_id bigint PRIMARY KEY);
INSERT INTO audit_log_pending (event_id) SELECT id FROM audit_events;

-- Entry i of the log: the RFC 8785 form of its event, as hashed into leaf i.
CREATE TABLE audit_log_entries (
  idx bigint PRIMARY KEY CHECK (idx >= 0),
  event_id bigint NOT NULL UNIQUE,
  entry text NOT NULL
);

-- Tile N at level L: the hashes (32 bytes each, at most 256) of the tree's nodes at height 8·L,
-- positions 256·N onwards. A tile only grows, until it is full; then it never changes.
CREATE TABLE audit_log_tiles (
  level smallint NOT NULL CHECK (level >= 0),
  idx bigint NOT NULL CHECK (idx >= 0),
  hashes bytea NOT NULL CHECK (length(hashes) % 32 = 0 AND length(hashes) BETWEEN 32 AND 8192),
  PRIMARY KEY (level, idx)
);

-- Every checkpoint signed, kept: a C2SP signed note of origin, size and root.
CREATE TABLE audit_checkpoints (
  size bigint PRIMARY KEY CHECK (size >= 0),
  root bytea NOT NULL,
  note text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Cosignatures witnesses returned for a checkpoint (a line of a signed note each).
CREATE TABLE audit_cosignatures (
  size bigint NOT NULL REFERENCES audit_checkpoints (size),
  witness text NOT NULL,
  line text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (size, witness)
);

CREATE FUNCTION audit_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only (% refused)', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER audit_log_entries_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log_entries
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();
CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_checkpoints
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();

-- A tile may only grow: the new hashes begin with the old ones.
CREATE FUNCTION audit_log_tile_grows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' OR substring(NEW.hashes FROM 1 FOR length(OLD.hashes)) <> OLD.hashes THEN
    RAISE EXCEPTION 'audit_log_tiles only grow (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END;
$$;
CREATE TRIGGER audit_log_tiles_grow BEFORE UPDATE OR DELETE ON audit_log_tiles
  FOR EACH ROW EXECUTE FUNCTION audit_log_tile_grows();
CREATE TRIGGER audit_log_tiles_no_truncate BEFORE TRUNCATE ON audit_log_tiles
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();
