-- cx_record_permits as a SQL expression the planner inlines: a record without consents is decided
-- in the scan itself (NOT opt_in, as 016 decides it), and only one with consents calls the PL/pgSQL
-- walk of 016, now cx_record_consents_permit. A match's candidate query calls it for every record its
-- rules find (about 80 among 1,000,000); the call alone cost 0.15-0.25 ms of the statement's 1.2-1.4 ms
-- of server CPU when the records hold no consents (bench:match's records, on the server, 2 cores).
ALTER FUNCTION cx_record_permits(jsonb, text, boolean) RENAME TO cx_record_consents_permit;

CREATE FUNCTION cx_record_permits(record jsonb, purpose text, opt_in boolean) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN record->'consents' IS NULL THEN NOT opt_in ELSE cx_record_consents_permit(record, purpose, opt_in) END
$$;
