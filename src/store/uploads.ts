import { z } from 'zod';
import type { Queryable } from './database.js';
import { pageOf, type Page, type PageRequest } from './pages.js';

export const uploadStatusSchema = z.enum(['completed', 'rejected']);

export const uploadSchema = z.object({
  id: z.uuid(),
  datasetId: z.uuid(),
  status: uploadStatusSchema,
  reason: z.string().nullable().describe('Why a rejected upload stored nothing.'),
  mapping: z.string().nullable(),
  contentType: z.string(),
  bytes: z.number().int(),
  accepted: z.number().int(),
  rejected: z.number().int(),
  inserted: z.number().int().describe('Source ids new to the dataset.'),
  updated: z.number().int().describe('Source ids whose record changed: a new version was stored.'),
  unchanged: z.number().int(),
  idempotencyKey: z.string().nullable(),
  createdAt: z.date(),
  report: z.record(z.string(), z.unknown()).describe('The mapping report: per-field quality, duplicates, issues.'),
});
export type Upload = z.infer<typeof uploadSchema>;
export const uploadSummarySchema = uploadSchema.omit({ report: true });
export type UploadSummary = z.infer<typeof uploadSummarySchema>;
export type UploadInput = Omit<Upload, 'createdAt'> & {
  partnerId: string;
  requestSha256?: string | null;
  /** When its versions began (a load in slices); default the transaction's time. */
  createdAt?: string;
};

const summaryColumns = `id, dataset_id AS "datasetId", status, reason, mapping, content_type AS "contentType", bytes, accepted, rejected,
  inserted, updated, unchanged, idempotency_key AS "idempotencyKey", created_at AS "createdAt"`;
const columns = `${summaryColumns}, report`;

export async function insertUpload(db: Queryable, input: UploadInput): Promise<Upload> {
  const rows = await db.query<Upload>(
    `INSERT INTO uploads (partner_id, dataset_id, status, reason, mapping, content_type, bytes, accepted, rejected, inserted, updated,
       unchanged, idempotency_key, report, id, request_sha256, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
       coalesce($17::timestamptz, date_trunc('milliseconds', now()))) RETURNING ${columns}`,
    [
      input.partnerId, input.datasetId, input.status, input.reason, input.mapping, input.contentType, input.bytes, input.accepted,
      input.rejected, input.inserted, input.updated, input.unchanged, input.idempotencyKey, input.report, input.id, input.requestSha256 ?? null,
      input.createdAt ?? null,
    ],
  );
  return rows[0]!;
}

export async function selectUpload(db: Queryable, partnerId: string, datasetId: string, id: string): Promise<Upload | undefined> {
  if (!z.uuid().safeParse(id).success) return undefined;
  const rows = await db.query<Upload>(`SELECT ${columns} FROM uploads WHERE partner_id = $1 AND dataset_id = $2 AND id = $3`, [partnerId, datasetId, id]);
  return rows[0];
}

/** A dataset's uploads, newest first, a page at a time; without their reports (GET one for it). */
export async function selectUploads(db: Queryable, partnerId: string, datasetId: string, page: PageRequest): Promise<Page<UploadSummary>> {
  const rows = await db.query<UploadSummary>(
    `SELECT ${summaryColumns} FROM uploads WHERE partner_id = $1 AND dataset_id = $2
       AND ($3::uuid IS NULL OR (created_at, id) < (SELECT created_at, id FROM uploads WHERE partner_id = $1 AND dataset_id = $2 AND id = $3::uuid))
     ORDER BY created_at DESC, id DESC LIMIT $4`,
    [partnerId, datasetId, page.after ?? null, page.limit + 1],
  );
  return pageOf(rows, page.limit);
}

export async function selectUploadByIdempotencyKey(
  db: Queryable,
  partnerId: string,
  datasetId: string,
  key: string,
): Promise<{ upload: Upload; requestSha256: string | null } | undefined> {
  const rows = await db.query<Upload & { requestSha256: string | null }>(
    `SELECT ${columns}, request_sha256 AS "requestSha256" FROM uploads WHERE partner_id = $1 AND dataset_id = $2 AND idempotency_key = $3`,
    [partnerId, datasetId, key],
  );
  if (!rows[0]) return undefined;
  // The fingerprint stays apart: it is the exchange's, not part of the upload a partner reads.
  const { requestSha256, ...upload } = rows[0];
  return { upload, requestSha256 };
}

/** An expired Idempotency-Key is free again: the upload keeps its record, not its key. */
export async function releaseIdempotencyKey(db: Queryable, partnerId: string, datasetId: string, uploadId: string): Promise<void> {
  await db.query(`UPDATE uploads SET idempotency_key = NULL WHERE partner_id = $1 AND dataset_id = $2 AND id = $3`, [partnerId, datasetId, uploadId]);
}

type ReportEntry = Record<string, unknown>;

/**
 * Erasure reaches the upload reports too: issues and duplicate flags of rows with this source id
 * lose the value and the id they carried, and say so. Returns how many reports changed.
 */
export async function scrubSourceIdFromReports(db: Queryable, scope: { partnerId: string; datasetId: string; sourceId: string }): Promise<number> {
  const mention = `jsonb_build_array(jsonb_build_object('sourceId', $3::text))`;
  const rows = await db.query<{ id: string; report: { issues?: ReportEntry[]; duplicates?: { flagged?: ReportEntry[] } } }>(
    `SELECT id, report FROM uploads WHERE partner_id = $1 AND dataset_id = $2
       AND (report->'issues' @> ${mention} OR report->'duplicates'->'flagged' @> ${mention})
     FOR UPDATE`,
    [scope.partnerId, scope.datasetId, scope.sourceId],
  );
  const scrub = (entries: ReportEntry[] | undefined) =>
    entries?.map((entry) => (entry.sourceId === scope.sourceId ? { ...entry, sourceId: null, ...('value' in entry ? { value: null } : {}), erased: true } : entry));
  for (const { id, report } of rows) {
    const scrubbed = { ...report, issues: scrub(report.issues), ...(report.duplicates ? { duplicates: { ...report.duplicates, flagged: scrub(report.duplicates.flagged) } } : {}) };
    await db.query(`UPDATE uploads SET report = $2 WHERE id = $1`, [id, scrubbed]);
  }
  return rows.length;
}
