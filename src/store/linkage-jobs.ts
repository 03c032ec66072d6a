/** Linkage jobs and their results. */
import { z } from 'zod';
import { copyLine, type Queryable } from './database.js';

export const linkageJobSchema = z.object({
  id: z.uuid(),
  grantor: z.uuid(),
  leftDatasetId: z.uuid(),
  rightDatasetId: z.uuid(),
  purpose: z.string(),
  jti: z.string(),
  options: z.record(z.string(), z.unknown()),
  status: z.enum(['queued', 'running', 'completed', 'failed']),
  progress: z.record(z.string(), z.unknown()),
  error: z.string().nullable(),
  links: z.number().int().nullable(),
  createdAt: z.date(),
  finishedAt: z.date().nullable(),
});
export type LinkageJob = z.infer<typeof linkageJobSchema>;

export const linkageResultSchema = z.object({
  rank: z.number().int(),
  leftId: z.string(),
  rightId: z.string(),
  probability: z.number(),
  matchWeight: z.number(),
  grade: z.string(),
  cluster: z.string().nullable(),
});
export type LinkageResult = z.infer<typeof linkageResultSchema>;

const columns = `id, grantor_id AS grantor, left_dataset_id AS "leftDatasetId", right_dataset_id AS "rightDatasetId", purpose, jti, options,
  status, progress, error, links, created_at AS "createdAt", finished_at AS "finishedAt"`;

export async function insertLinkageJob(
  tx: Queryable,
  job: { partnerId: string; grantorId: string; leftDatasetId: string; rightDatasetId: string; purpose: string; jti: string; options: Record<string, unknown> },
): Promise<LinkageJob> {
  const [row] = await tx.query<LinkageJob>(
    `INSERT INTO linkage_jobs (partner_id, grantor_id, left_dataset_id, right_dataset_id, purpose, jti, options, status)
     VALUES ($1, $2, $3, $4, $5, $6, $7, 'queued') RETURNING ${columns}`,
    [job.partnerId, job.grantorId, job.leftDatasetId, job.rightDatasetId, job.purpose, job.jti, job.options],
  );
  return row!;
}

export async function selectLinkageJob(db: Queryable, partnerId: string, id: string): Promise<LinkageJob | undefined> {
  if (!z.uuid().safeParse(id).success) return undefined;
  const [row] = await db.query<LinkageJob>(`SELECT ${columns} FROM linkage_jobs WHERE partner_id = $1 AND id = $2`, [partnerId, id]);
  return row;
}

export async function updateLinkageJob(db: Queryable, partnerId: string, id: string, change: { status?: LinkageJob['status']; progress?: Record<string, unknown>; error?: string; links?: number }): Promise<void> {
  await db.query(
    `UPDATE linkage_jobs SET status = coalesce($3, status), progress = coalesce($4, progress), error = coalesce($5, error), links = coalesce($6, links),
       finished_at = CASE WHEN $3 IN ('completed', 'failed') THEN now() ELSE finished_at END
     WHERE partner_id = $1 AND id = $2`,
    [partnerId, id, change.status ?? null, change.progress ?? null, change.error ?? null, change.links ?? null],
  );
}

/** Jobs a stopped process left unfinished: they failed, and say so. */
export async function failInterruptedJobs(db: Queryable): Promise<number> {
  const rows = await db.query(
    `UPDATE linkage_jobs SET status = 'failed', error = 'The exchange restarted while the job ran; submit it again.', finished_at = now()
     WHERE status IN ('queued', 'running') RETURNING id`,
  );
  return rows.length;
}

export async function insertLinkageResults(tx: Queryable, partnerId: string, jobId: string, results: Omit<LinkageResult, 'rank'>[]): Promise<void> {
  const lines = results.map((r, i) => copyLine([partnerId, jobId, i + 1, r.leftId, r.rightId, r.probability, r.matchWeight, r.grade, r.cluster]));
  for (let start = 0; start < lines.length; start += 50_000) {
    await tx.copyRows('linkage_results', ['partner_id', 'job_id', 'rank', 'left_id', 'right_id', 'probability', 'match_weight', 'grade', 'cluster'], `${lines.slice(start, start + 50_000).join('\n')}\n`);
  }
}

/** A page of results, best first, after `afterRank`. */
export async function selectLinkageResults(db: Queryable, partnerId: string, jobId: string, page: { afterRank: number; limit: number }): Promise<LinkageResult[]> {
  return db.query<LinkageResult>(
    `SELECT rank, left_id AS "leftId", right_id AS "rightId", probability, match_weight AS "matchWeight", grade, cluster
     FROM linkage_results WHERE partner_id = $1 AND job_id = $2 AND rank > $3 ORDER BY rank LIMIT $4`,
    [partnerId, jobId, page.afterRank, page.limit],
  );
}

/**
 * Erasure reaches stored links: every link naming the record, in the owner's own jobs (left side)
 * and in grantees' jobs against the owner's dataset (right side). Returns how many went.
 */
export async function deleteLinksToRecord(tx: Queryable, scope: { partnerId: string; datasetId: string; sourceId: string }): Promise<number> {
  const rows = await tx.query(
    `DELETE FROM linkage_results r USING linkage_jobs j
     WHERE r.partner_id = j.partner_id AND r.job_id = j.id
       AND ((j.partner_id = $1 AND j.left_dataset_id = $2 AND r.left_id = $3)
         OR (j.grantor_id = $1 AND j.right_dataset_id = $2 AND r.right_id = $3))
     RETURNING 1`,
    [scope.partnerId, scope.datasetId, scope.sourceId],
  );
  return rows.length;
}
