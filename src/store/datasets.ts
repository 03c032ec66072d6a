import { z } from 'zod';
import type { Queryable } from './database.js';
import { pageOf, type Page, type PageRequest } from './pages.js';

export const datasetSchema = z.object({
  id: z.uuid(),
  partnerId: z.uuid(),
  name: z.string(),
  description: z.string().nullable(),
  defaultMapping: z.string().nullable(),
  standardVersion: z.string(),
  createdAt: z.date(),
  records: z.number().int().describe('Current (not erased) records.'),
  loading: z.boolean().describe('A first load is under way: the records appear, all at once, when it completes.'),
  modelId: z.uuid().nullable().describe('The match model its matches and linkage jobs use (PUT /v1/datasets/{id}/model); null: the shipped default.'),
});
export type Dataset = z.infer<typeof datasetSchema>;

const columns = `d.id, d.partner_id AS "partnerId", d.name, d.description, d.default_mapping AS "defaultMapping",
  d.standard_version AS "standardVersion", d.created_at AS "createdAt",
  (SELECT count(*)::int FROM customer_records r
    WHERE r.partner_id = d.partner_id AND r.dataset_id = d.id AND r.valid_to IS NULL AND d.loading_upload_id IS NULL) AS records,
  d.loading_upload_id IS NOT NULL AS loading, d.model_id AS "modelId"`;

export async function insertDataset(
  db: Queryable,
  input: { partnerId: string; name: string; description: string | null; defaultMapping: string | null; standardVersion: string },
): Promise<Dataset | undefined> {
  const rows = await db.query<{ id: string }>(
    `INSERT INTO datasets (partner_id, name, description, default_mapping, standard_version) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (partner_id, name) DO NOTHING RETURNING id`,
    [input.partnerId, input.name, input.description, input.defaultMapping, input.standardVersion],
  );
  return rows[0] ? selectDataset(db, input.partnerId, rows[0].id) : undefined;
}

/** A partner's dataset; another partner's id finds nothing, exactly like an id that does not exist. */
export async function selectDataset(db: Queryable, partnerId: string, id: string): Promise<Dataset | undefined> {
  if (!z.uuid().safeParse(id).success) return undefined;
  const rows = await db.query<Dataset>(`SELECT ${columns} FROM datasets d WHERE d.partner_id = $1 AND d.id = $2`, [partnerId, id]);
  return rows[0];
}

/** A partner's datasets, oldest first, a page at a time. */
export async function selectDatasets(db: Queryable, partnerId: string, page: PageRequest): Promise<Page<Dataset>> {
  const rows = await db.query<Dataset>(
    `SELECT ${columns} FROM datasets d WHERE d.partner_id = $1
       AND ($2::uuid IS NULL OR (d.created_at, d.id) > (SELECT created_at, id FROM datasets WHERE partner_id = $1 AND id = $2::uuid))
     ORDER BY d.created_at, d.id LIMIT $3`,
    [partnerId, page.after ?? null, page.limit + 1],
  );
  return pageOf(rows, page.limit);
}

/** Datasets among `datasetIds` that the partner owns. */
export async function selectOwnedDatasetIds(db: Queryable, partnerId: string, datasetIds: string[]): Promise<string[]> {
  const rows = await db.query<{ id: string }>(`SELECT id FROM datasets WHERE partner_id = $1 AND id = ANY($2::uuid[])`, [partnerId, datasetIds]);
  return rows.map((r) => r.id);
}
