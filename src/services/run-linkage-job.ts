import { recordEvent } from '../audit/record-event.js';
import type { ConsentGrant } from '../core/grant.js';
import type { Link } from '../match/link.js';
import { gradeRank } from '../match/model.js';
import { isRevoked } from '../store/consent.js';
import { forLongWork } from '../store/database.js';
import { insertLinkageResults, updateLinkageJob, type LinkageJob } from '../store/linkage-jobs.js';
import type { ServiceContext } from './context.js';
import { linkDatasets } from './link-datasets.js';
import { modelNamed } from './models.js';

/**
 * Runs a created job: candidate pairs within the grant (SQL), scored; links no weaker than the
 * token's min_grade and at most its max_results per record of the caller are stored with the
 * job's completion and its audit event, in one transaction.
 */
export async function runLinkageJob(ctx: ServiceContext, job: LinkageJob, grant: ConsentGrant): Promise<void> {
  const partnerId = grant.granteeId;
  await updateLinkageJob(ctx.db, partnerId, job.id, { status: 'running', progress: { stage: 'candidates' } });
  let lastUpdate = 0;
  // The model the job was created with: the default, or the grantor's model of that id.
  const model = await modelNamed(ctx.db, grant.grantorId, String(job.options.model ?? 'default'));
  const result = await linkDatasets(
    forLongWork(ctx.db),
    { partnerId, datasetId: job.leftDatasetId },
    { partnerId: grant.grantorId, datasetId: job.rightDatasetId, grant },
    {
      model,
      threshold: Number(job.options.threshold),
      oneToOne: Boolean(job.options.oneToOne),
      cluster: Boolean(job.options.cluster),
      maxWorkers: ctx.config.LINKAGE_WORKERS,
      onProgress: (stage, done, total) => {
        if (Date.now() - lastUpdate < 1000 && done < total) return;
        lastUpdate = Date.now();
        void updateLinkageJob(ctx.db, partnerId, job.id, { progress: { stage, done, total } }).catch(() => {});
      },
    },
  );
  // The grant may have ended while the job ran: revoked by its grantor, or expired. Nothing is stored then.
  const revoked = await isRevoked(ctx.db, grant.grantorId, grant.jti);
  if (revoked || grant.expiresAt.getTime() <= Date.now()) {
    const reason = revoked ? 'The consent token was revoked while the job ran; no links were kept.' : 'The consent token expired while the job ran; no links were kept.';
    await ctx.db.transaction(async (tx) => {
      await updateLinkageJob(tx, partnerId, job.id, { status: 'failed', error: reason });
      await recordEvent(tx, ctx, { action: 'linkage_job.fail', targetType: 'linkage_job', targetId: job.id, partnerId, outcome: 'denied', details: { jti: grant.jti, reason: revoked ? 'revoked' : 'expired' } });
    });
    return;
  }
  const perLeft = new Map<string, number>();
  const kept: Link[] = result.links.filter((link) => {
    if (!link.grade || gradeRank[link.grade] > gradeRank[grant.minGrade]) return false;
    const count = (perLeft.get(link.leftId) ?? 0) + 1;
    perLeft.set(link.leftId, count);
    return count <= grant.maxResults;
  });
  await ctx.db.transaction(async (tx) => {
    await insertLinkageResults(
      tx,
      partnerId,
      job.id,
      kept.map((link) => ({
        leftId: link.leftId,
        rightId: link.rightId,
        probability: Math.round(link.probability * 1e6) / 1e6,
        matchWeight: link.matchWeight,
        grade: link.grade!,
        cluster: result.clusters?.get(`L:${link.leftId}`) ?? null,
      })),
    );
    await updateLinkageJob(tx, partnerId, job.id, {
      status: 'completed',
      links: kept.length,
      progress: { stage: 'completed', candidatePairs: result.candidatePairs, blocking: result.blocking, leftRecords: result.leftRecords, rightRecords: result.rightRecords },
    });
    await recordEvent(tx, { ...ctx }, {
      action: 'linkage_job.complete',
      targetType: 'linkage_job',
      targetId: job.id,
      partnerId,
      details: { jti: grant.jti, grantor: grant.grantorId, candidatePairs: result.candidatePairs, links: kept.length },
    });
  });
}
