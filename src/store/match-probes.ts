/** Probe counts per consent token and candidate record (digests only), for the match probe budget. */
import type { AuditEventInput } from '../audit/events.js';
import type { ConsentGrant } from '../core/grant.js';
import { auditEventsWrite } from './audit-events.js';
import type { Queryable } from './database.js';

/**
 * Counts, for each of `recordKeys` found under the grant's token, the distinct criteria it has been
 * found with, this query's included, and returns the most. Within `budget`, notes this query's
 * criteria against each record and writes `events` (the query's audit events); over it, writes
 * nothing. One statement, so one round trip and atomic without a transaction: a BEGIN, a second
 * statement and a COMMIT fewer for every match.
 */
export async function recordMatchProbes(db: Queryable, grant: ConsentGrant, criteriaKey: string, recordKeys: string[], budget: number, events: AuditEventInput[]): Promise<number> {
  const within = '(SELECT most FROM counted) <= $5';
  const audit = auditEventsWrite(events, 6, within);
  const [row] = await db.query<{ most: number }>(
    `WITH counted AS (
       SELECT coalesce(max(
         (SELECT count(*) FROM match_probes p WHERE p.partner_id = $1 AND p.jti = $2 AND p.record_key = k.key)
         + CASE WHEN EXISTS (SELECT 1 FROM match_probes p WHERE p.partner_id = $1 AND p.jti = $2 AND p.record_key = k.key AND p.criteria_key = $3) THEN 0 ELSE 1 END
       ), 0)::int AS most
       FROM unnest($4::text[]) AS k(key)),
     added AS (
       INSERT INTO match_probes (partner_id, jti, record_key, criteria_key)
       SELECT $1, $2, key, $3 FROM unnest($4::text[]) AS key WHERE ${within} ON CONFLICT DO NOTHING),
     ${audit.sql}
     SELECT most FROM counted`,
    [grant.grantorId, grant.jti, criteriaKey, recordKeys, budget, ...audit.params],
  );
  return row!.most;
}
