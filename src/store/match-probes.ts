/** Probe counts per consent token and candidate record (digests only), for the match probe budget. */
import type { AuditEventInput } from '../audit/events.js';
import type { ConsentGrant } from '../core/grant.js';
import { auditEventsWrite } from './audit-events.js';
import type { Queryable } from './database.js';

/**
 * Counts, for each of `recordKeys` found under the grant's token, the distinct criteria it has been
 * found with, this query's included, and returns the most. Within `budget`, notes this query's
 * criteria against each record, writes `events` (the query's audit events) and answers `read` (a
 * scalar subquery, such as the disclosure of what was found); over it, writes nothing and reads
 * nothing. One statement, so one round trip and atomic without a transaction: a BEGIN, two more
 * statements and a COMMIT fewer for every match.
 *
 * The keys are unnested through a subquery, `unnest((SELECT $4::text[]))`: given the array itself,
 * the planner costs each execution by its length, finds that cheaper than a plan for any length, and
 * plans the statement afresh every time (0.4–0.5 ms a match); behind a subquery every plan costs the
 * same, so the prepared statement's generic plan is kept (pg_prepared_statements.generic_plans).
 */
export async function recordMatchProbes<R = never>(
  db: Queryable,
  probes: { grant: ConsentGrant; criteriaKey: string; recordKeys: string[]; budget: number },
  events: AuditEventInput[],
  read?: (first: number) => { sql: string; params: unknown[] },
): Promise<{ most: number; read?: R }> {
  const { grant, criteriaKey, recordKeys, budget } = probes;
  const within = '(SELECT most FROM counted) <= $5';
  const audit = auditEventsWrite(events, 6, within);
  const alongside = read?.(6 + audit.params.length);
  const [row] = await db.query<{ most: number; read: R | null }>(
    `WITH counted AS (
       SELECT coalesce(max(
         (SELECT count(*) FROM match_probes p WHERE p.partner_id = $1 AND p.jti = $2 AND p.record_key = k.key)
         + CASE WHEN EXISTS (SELECT 1 FROM match_probes p WHERE p.partner_id = $1 AND p.jti = $2 AND p.record_key = k.key AND p.criteria_key = $3) THEN 0 ELSE 1 END
       ), 0)::int AS most
       FROM unnest((SELECT $4::text[])) AS k(key)),
     added AS (
       INSERT INTO match_probes (partner_id, jti, record_key, criteria_key)
       SELECT $1, $2, key, $3 FROM unnest((SELECT $4::text[])) AS key WHERE ${within} ON CONFLICT DO NOTHING),
     ${audit.sql}
     SELECT most, ${alongside ? `CASE WHEN most <= $5 THEN (${alongside.sql}) END` : 'NULL'} AS read FROM counted`,
    [grant.grantorId, grant.jti, criteriaKey, recordKeys, budget, ...audit.params, ...(alongside?.params ?? [])],
  );
  return { most: row!.most, ...(row!.read !== null ? { read: row!.read } : {}) };
}
