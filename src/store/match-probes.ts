/** Probe counts per consent token and candidate record (digests only), for the match probe budget. */
import type { ConsentGrant } from '../consent/grant.js';
import type { Queryable } from './database.js';

/**
 * Notes that `criteriaKey` found each of `recordKeys` under the grant's token; returns the most
 * distinct criteria any of those records has now been found with.
 */
export async function recordMatchProbes(db: Queryable, grant: ConsentGrant, criteriaKey: string, recordKeys: string[]): Promise<number> {
  await db.query(
    `INSERT INTO match_probes (partner_id, jti, record_key, criteria_key)
     SELECT $1, $2, key, $3 FROM unnest($4::text[]) AS key ON CONFLICT DO NOTHING`,
    [grant.grantorId, grant.jti, criteriaKey, recordKeys],
  );
  const [row] = await db.query<{ most: number }>(
    `SELECT coalesce(max(n), 0)::int AS most FROM (
       SELECT count(*) AS n FROM match_probes WHERE partner_id = $1 AND jti = $2 AND record_key = ANY($3::text[]) GROUP BY record_key) counts`,
    [grant.grantorId, grant.jti, recordKeys],
  );
  return row!.most;
}
