/** Erasure tombstones: keyed pseudonyms of erased source ids, per dataset (no personal data). */
import type { Queryable } from './database.js';

export async function insertTombstone(tx: Queryable, scope: { partnerId: string; datasetId: string; sourceKey: string }): Promise<void> {
  await tx.query(
    `INSERT INTO erasure_tombstones (partner_id, dataset_id, source_key) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
    [scope.partnerId, scope.datasetId, scope.sourceKey],
  );
}

/** Every tombstone of a dataset (erasures are rare: a set of them fits in memory). */
export async function selectTombstoneKeys(db: Queryable, scope: { partnerId: string; datasetId: string }): Promise<Set<string>> {
  const rows = await db.query<{ key: string }>(`SELECT source_key AS key FROM erasure_tombstones WHERE partner_id = $1 AND dataset_id = $2`, [scope.partnerId, scope.datasetId]);
  return new Set(rows.map((r) => r.key));
}

/** Lifts tombstones; returns how many there were. */
export async function deleteTombstones(tx: Queryable, scope: { partnerId: string; datasetId: string; sourceKeys: string[] }): Promise<number> {
  const rows = await tx.query(
    `DELETE FROM erasure_tombstones WHERE partner_id = $1 AND dataset_id = $2 AND source_key = ANY($3::text[]) RETURNING 1`,
    [scope.partnerId, scope.datasetId, scope.sourceKeys],
  );
  return rows.length;
}
