import { authorizeConsent } from '../consent/authorize.js';
import type { ConsentGrant } from '../core/grant.js';
import { AppError, notFound } from '../errors.js';
import type { purposes } from '../standard/code-lists.js';
import { selectLinkageJob, selectLinkageResults, type LinkageJob, type LinkageResult } from '../store/linkage-jobs.js';
import type { ServiceContext } from './context.js';
import { requirePartner } from './datasets.js';

/** One of the caller's linkage jobs: status and progress. */
export async function getLinkageJob({ ctx, jobId }: { ctx: ServiceContext; jobId: string }): Promise<LinkageJob> {
  const job = await selectLinkageJob(ctx.db, requirePartner(ctx), jobId);
  if (!job) throw notFound('The linkage job');
  return job;
}

/** A link as the grant lets it be read: without scores when the token grants grades only. */
export type ReadableLink = Omit<LinkageResult, 'probability' | 'matchWeight'> & { probability?: number; matchWeight?: number };

/**
 * Links are the grantor's data too: they are read through the same consent gate as its records,
 * with the token the job ran under. A revoked or expired token reads nothing (401), whatever the
 * job found while it was valid.
 */
export async function openLinkageResults({ ctx, jobId, token }: { ctx: ServiceContext; jobId: string; token: string | undefined }): Promise<{ job: LinkageJob; grant: ConsentGrant }> {
  const job = await getLinkageJob({ ctx, jobId });
  const grant = await authorizeConsent(ctx, { token, callerId: requirePartner(ctx), purpose: job.purpose as (typeof purposes)[number], action: 'match' });
  if (grant.jti !== job.jti || grant.grantorId !== job.grantor) {
    throw new AppError('forbidden', 'These links were made under another consent token: send the token the job ran under.', { reason: 'token_mismatch' });
  }
  return { job, grant };
}

function readable(grant: ConsentGrant, link: LinkageResult): ReadableLink {
  if (grant.scores) return link;
  const { probability: _p, matchWeight: _w, ...rest } = link;
  return rest;
}

/** A page of a job's links, best first; `cursor` is the rank the previous page ended at. */
export async function listLinkageResults({ ctx, jobId, token, cursor, limit }: { ctx: ServiceContext; jobId: string; token: string | undefined; cursor: number; limit: number }): Promise<{ items: ReadableLink[]; nextCursor: number | null }> {
  const { job, grant } = await openLinkageResults({ ctx, jobId, token });
  return pageOfLinks(ctx, job, grant, cursor, limit);
}

async function pageOfLinks(ctx: ServiceContext, job: LinkageJob, grant: ConsentGrant, cursor: number, limit: number): Promise<{ items: ReadableLink[]; nextCursor: number | null }> {
  const items = await selectLinkageResults(ctx.db, requirePartner(ctx), job.id, { afterRank: cursor, limit });
  return { items: items.map((link) => readable(grant, link)), nextCursor: items.length === limit ? items[items.length - 1]!.rank : null };
}

/** Every link of a job opened with `openLinkageResults`, page by page, for a download. */
export async function* allLinkageResults(ctx: ServiceContext, opened: { job: LinkageJob; grant: ConsentGrant }): AsyncGenerator<ReadableLink> {
  let cursor = 0;
  for (;;) {
    const { items, nextCursor } = await pageOfLinks(ctx, opened.job, opened.grant, cursor, 10_000);
    yield* items;
    if (nextCursor === null) return;
    cursor = nextCursor;
  }
}
