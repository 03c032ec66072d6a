/** Per-dataset match models and which model a dataset names. */
import { z } from 'zod';
import type { Queryable } from './database.js';

export const storedModelSchema = z.object({
  id: z.uuid(),
  datasetId: z.uuid(),
  status: z.enum(['training', 'ready', 'failed']),
  error: z.string().nullable(),
  createdAt: z.date(),
  finishedAt: z.date().nullable(),
  /** The model's JSON (src/match/model.ts), once ready. */
  model: z.record(z.string(), z.unknown()).nullable(),
});
export type StoredModel = z.infer<typeof storedModelSchema>;

const columns = `id, dataset_id AS "datasetId", status, error, created_at AS "createdAt", finished_at AS "finishedAt", model`;

export async function insertModel(tx: Queryable, partnerId: string, datasetId: string): Promise<StoredModel> {
  const [row] = await tx.query<StoredModel>(`INSERT INTO match_models (partner_id, dataset_id, status) VALUES ($1, $2, 'training') RETURNING ${columns}`, [partnerId, datasetId]);
  return row!;
}

export async function finishModel(tx: Queryable, partnerId: string, id: string, outcome: { model: Record<string, unknown> } | { error: string }): Promise<void> {
  await tx.query(
    `UPDATE match_models SET status = $3, model = $4, error = $5, finished_at = now() WHERE partner_id = $1 AND id = $2`,
    'model' in outcome ? [partnerId, id, 'ready', outcome.model, null] : [partnerId, id, 'failed', null, outcome.error],
  );
}

export async function selectModel(db: Queryable, partnerId: string, id: string): Promise<StoredModel | undefined> {
  const [row] = await db.query<StoredModel>(`SELECT ${columns} FROM match_models WHERE partner_id = $1 AND id = $2`, [partnerId, id]);
  return row;
}

export async function selectModels(db: Queryable, partnerId: string): Promise<StoredModel[]> {
  return db.query<StoredModel>(`SELECT ${columns} FROM match_models WHERE partner_id = $1 ORDER BY created_at, id`, [partnerId]);
}

export async function setDatasetModel(tx: Queryable, partnerId: string, datasetId: string, modelId: string | null): Promise<void> {
  await tx.query('UPDATE datasets SET model_id = $3 WHERE partner_id = $1 AND id = $2', [partnerId, datasetId, modelId]);
}

/** The ready model each dataset names, by dataset id, of the given datasets or (null) of all the partner's: datasets naming none are absent. */
export async function selectDatasetModels(db: Queryable, partnerId: string, datasetIds: string[] | null): Promise<Map<string, { id: string; model: Record<string, unknown> }>> {
  if (datasetIds && !datasetIds.length) return new Map();
  const rows = await db.query<{ datasetId: string; id: string; model: Record<string, unknown> }>(
    `SELECT d.id AS "datasetId", m.id, m.model FROM datasets d JOIN match_models m ON m.partner_id = d.partner_id AND m.id = d.model_id
     WHERE d.partner_id = $1 AND ($2::uuid[] IS NULL OR d.id = ANY($2::uuid[])) AND m.status = 'ready'`,
    [partnerId, datasetIds],
  );
  return new Map(rows.map((r) => [r.datasetId, { id: r.id, model: r.model }]));
}
