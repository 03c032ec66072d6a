import { z } from 'zod';
import { recordEvent } from '../audit/record-event.js';
import { authorizeConsent } from '../consent/authorize.js';
import type { ConsentGrant } from '../core/grant.js';
import { notFound } from '../errors.js';
import { purposes } from '../standard/code-lists.js';
import { selectOwnedDatasetIds } from '../store/datasets.js';
import { insertLinkageJob, updateLinkageJob, type LinkageJob } from '../store/linkage-jobs.js';
import type { ServiceContext } from './context.js';
import { runInBackground } from './background.js';
import { findOwnDataset, requirePartner } from './datasets.js';
import { modelsForDatasets } from './models.js';
import { runLinkageJob } from './run-linkage-job.js';

export const createLinkageJobInput = z
  .object({
    purpose: z.enum(purposes),
    leftDatasetId: z.uuid().describe('Your dataset.'),
    rightDatasetId: z.uuid().describe("The grantor's dataset, within the token's datasets."),
    threshold: z.number().gt(0).lt(1).optional().describe('Lowest probability kept (default: the model\'s "possible" grade).'),
    oneToOne: z.boolean().default(false).describe('Each record linked at most once, best first.'),
    cluster: z.boolean().default(false).describe('Give each link the cluster of transitively linked records it belongs to.'),
  })
  .strict();

export { runningJobs } from './background.js';

/**
 * Links one of the caller's datasets against a grantor's, under the grantor's consent token, in the
 * background; the job is created (and audited) at once and reports its progress.
 */
export async function createLinkageJob({ ctx, token, input }: { ctx: ServiceContext; token: string | undefined; input: z.input<typeof createLinkageJobInput> }): Promise<LinkageJob> {
  const partnerId = requirePartner(ctx);
  const request = createLinkageJobInput.parse(input);
  const grant: ConsentGrant = await authorizeConsent(ctx, { token, callerId: partnerId, purpose: request.purpose, action: 'match' });
  await findOwnDataset(ctx.db, partnerId, request.leftDatasetId);
  const covered = !grant.datasets || grant.datasets.includes(request.rightDatasetId);
  const [owned] = await selectOwnedDatasetIds(ctx.db, grant.grantorId, [request.rightDatasetId]);
  // Outside the grant or not the grantor's: the same answer as a dataset that does not exist.
  if (!covered || !owned) throw notFound("The grantor's dataset");
  // Scored by the model the grantor's dataset names, as its single queries are.
  const { model, name } = (await modelsForDatasets(ctx.db, grant.grantorId, [request.rightDatasetId])).modelFor(request.rightDatasetId);
  const options = { threshold: request.threshold ?? model.thresholds.possible, oneToOne: request.oneToOne, cluster: request.cluster, model: name };
  const job = await ctx.db.transaction(async (tx) => {
    const created = await insertLinkageJob(tx, {
      partnerId, grantorId: grant.grantorId, leftDatasetId: request.leftDatasetId, rightDatasetId: request.rightDatasetId, purpose: request.purpose, jti: grant.jti, options,
    });
    await recordEvent(tx, ctx, {
      action: 'linkage_job.create',
      targetType: 'linkage_job',
      targetId: created.id,
      details: { jti: grant.jti, grantor: grant.grantorId, leftDatasetId: request.leftDatasetId, rightDatasetId: request.rightDatasetId, purpose: request.purpose, ...options },
    });
    return created;
  });
  const running = runLinkageJob(ctx, job, grant).catch(async (error: unknown) => {
    ctx.logger.error({ err: error, jobId: job.id }, 'linkage job failed');
    await updateLinkageJob(ctx.db, partnerId, job.id, { status: 'failed', error: 'The job failed; the exchange logged why. Submit it again.' }).catch(() => {});
  });
  runInBackground(running);
  return job;
}
