/** Probe counts per consent token and candidate record (digests only), for the match probe budget. */
import type { ConsentGrant } from '../core/grant.js';
import type { Queryable } from './database.js';

/**
 * Notes that `criteriaKey` found each of `recordKeys` under the grant's token; returns the most
 * distinct criteria any of those records has now been found with.
 */
export async function recordMatchProbes(db: Queryable, grant: ConsentGrant, criteriaKey: string, recordKeys: string[]): Promise<number> {
  // One statement: the count reads the snapshot from before the insert, so what this query
  // added is counted beside it.
  const [row] = await db.query<{ most: number }>(
    `WITH added AS (
       INSERT INTO match_probes (partner_id, jti, record_key, criteria_key)
       SELECT $1, $2, key, $3 FROM unnest($4::text[]) AS key ON CONFLICT DO NOTHING
       RETURNING record_key)
     SELECT coalesce(max(
       (SELECT count(*) FROM match_probes p WHERE p.partner_id = $1 AND p.jti = $2 AND p.record_key = k.key)
       + (SELECT count(*) FROM added a WHERE a.record_key = k.key)), 0)::int AS most
     FROM unnest($4::text[]) AS k(key)`,
    [grant.grantorId, grant.jti, criteriaKey, recordKeys],
  );
  return row!.most;
}
