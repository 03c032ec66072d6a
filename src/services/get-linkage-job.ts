import { notFound } from '../errors.js';
import { selectLinkageJob, selectLinkageResults, type LinkageJob, type LinkageResult } from '../store/linkage-jobs.js';
import type { ServiceContext } from './context.js';
import { requirePartner } from './datasets.js';

/** One of the caller's linkage jobs: status and progress. */
export async function getLinkageJob({ ctx, jobId }: { ctx: ServiceContext; jobId: string }): Promise<LinkageJob> {
  const job = await selectLinkageJob(ctx.db, requirePartner(ctx), jobId);
  if (!job) throw notFound('The linkage job');
  return job;
}

/** A page of a job's links, best first; `cursor` is the rank the previous page ended at. */
export async function listLinkageResults({ ctx, jobId, cursor, limit }: { ctx: ServiceContext; jobId: string; cursor: number; limit: number }): Promise<{ items: LinkageResult[]; nextCursor: number | null }> {
  const job = await getLinkageJob({ ctx, jobId });
  const items = await selectLinkageResults(ctx.db, requirePartner(ctx), job.id, { afterRank: cursor, limit });
  return { items, nextCursor: items.length === limit ? items[items.length - 1]!.rank : null };
}

/** Every link of a job, page by page, for a download. */
export async function* allLinkageResults(ctx: ServiceContext, jobId: string): AsyncGenerator<LinkageResult> {
  let cursor = 0;
  for (;;) {
    const { items, nextCursor } = await listLinkageResults({ ctx, jobId, cursor, limit: 10_000 });
    yield* items;
    if (nextCursor === null) return;
    cursor = nextCursor;
  }
}
