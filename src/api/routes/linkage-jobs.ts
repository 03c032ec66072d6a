/** Batch linkage jobs: one of your datasets against a grantor's, under its consent token, in the background. */
import { createRoute, z } from '@hono/zod-openapi';
import { stream } from 'hono/streaming';
import { createLinkageJob, createLinkageJobInput } from '../../services/create-linkage-job.js';
import { allLinkageResults, getLinkageJob, listLinkageResults, openLinkageResults } from '../../services/get-linkage-job.js';
import { linkageJobSchema, linkageResultSchema } from '../../store/linkage-jobs.js';
import type { App } from '../app.js';
import { serviceContext } from '../env.js';
import { matchBudget } from '../middleware/rate-limit.js';
import { requireActor } from '../middleware/require-actor.js';
import { bearerSecurity, consentTokenHeader, createdResponse, jsonResponse, nextLinkHeader, withNextLink } from '../openapi.js';
import { csvDownloadHeaders, csvLines } from '../csv.js';
import { problemResponses } from '../problem.js';

const partnerOnly = requireActor('partner');
const jobParams = z.object({ jobId: z.string().max(100) });

const create = createRoute({
  method: 'post',
  path: '/v1/linkage-jobs',
  operationId: 'createLinkageJob',
  tags: ['matching'],
  summary: "Link one of your datasets against a grantor's, in the background",
  description: "Needs a consent token granting `match` for the purpose and covering the grantor's dataset. Poll the job for progress; its links are paged and downloadable.",
  security: bearerSecurity,
  middleware: [partnerOnly, matchBudget] as const,
  request: {
    headers: consentTokenHeader,
    body: { required: true, content: { 'application/json': { schema: createLinkageJobInput } } },
  },
  responses: { 202: createdResponse(linkageJobSchema, 'Accepted; runs in the background'), ...problemResponses(400, 401, 403, 404) },
});

const get = createRoute({
  method: 'get',
  path: '/v1/linkage-jobs/{jobId}',
  operationId: 'getLinkageJob',
  tags: ['matching'],
  summary: 'A linkage job: status and progress',
  description: 'A linkage job of yours: its status, its progress and, when done, its counts.',
  security: bearerSecurity,
  middleware: partnerOnly,
  request: { params: jobParams },
  responses: { 200: jsonResponse(linkageJobSchema, 'The job'), ...problemResponses(401, 403, 404) },
});

const results = createRoute({
  method: 'get',
  path: '/v1/linkage-jobs/{jobId}/results',
  operationId: 'listLinkageResults',
  tags: ['matching'],
  summary: "A job's links, best first, a page at a time",
  description: 'A finished job\'s links, best first, a page at a time; the consent token is checked again, so a revoked grant stops the reading.',
  security: bearerSecurity,
  middleware: partnerOnly,
  request: { headers: consentTokenHeader, params: jobParams, query: z.object({ cursor: z.coerce.number().int().min(0).default(0), limit: z.coerce.number().int().min(1).max(10_000).default(1000) }) },
  responses: {
    200: { ...jsonResponse(z.object({ items: z.array(linkageResultSchema.partial({ probability: true, matchWeight: true })), nextCursor: z.number().int().nullable() }), 'A page of links'), headers: nextLinkHeader },
    ...problemResponses(400, 401, 403, 404),
  },
});

const download = (format: 'csv' | 'ndjson') =>
  createRoute({
    method: 'get',
    path: `/v1/linkage-jobs/{jobId}/results.${format}`,
    operationId: format === 'csv' ? 'exportLinkageResultsCsv' : 'exportLinkageResultsNdjson',
    tags: ['matching'],
    summary: `All of a job's links as ${format === 'csv' ? 'CSV' : 'NDJSON'}`,
    description: `Every link of a finished job as ${format === 'csv' ? 'CSV' : 'NDJSON'}, streamed; the consent token is checked again.`,
    security: bearerSecurity,
    middleware: partnerOnly,
    request: { headers: consentTokenHeader, params: jobParams },
    responses: {
      200: { description: 'The links, best first', content: { [format === 'csv' ? 'text/csv' : 'application/x-ndjson']: { schema: z.string() } } },
      ...problemResponses(401, 403, 404),
    },
  });

export function registerLinkageJobs(app: App): void {
  app.openapi(create, async (c) => {
    const job = await createLinkageJob({ ctx: serviceContext(c), token: c.req.valid('header')['consent-token'], input: c.req.valid('json') });
    c.header('location', `/v1/linkage-jobs/${job.id}`);
    return c.json(job, 202);
  });
  app.openapi(get, async (c) => c.json(await getLinkageJob({ ctx: serviceContext(c), jobId: c.req.valid('param').jobId }), 200));
  app.openapi(results, async (c) => {
    const { cursor, limit } = c.req.valid('query');
    return c.json(withNextLink(c, await listLinkageResults({ ctx: serviceContext(c), jobId: c.req.valid('param').jobId, token: c.req.valid('header')['consent-token'], cursor, limit })), 200);
  });
  for (const format of ['csv', 'ndjson'] as const) {
    app.openapi(download(format), async (c) => {
      const { jobId } = c.req.valid('param');
      const ctx = serviceContext(c);
      const opened = await openLinkageResults({ ctx, jobId, token: c.req.valid('header')['consent-token'] });
      const { job } = opened;
      const headers = format === 'csv' ? csvDownloadHeaders(`linkage-${job.id}.csv`) : { 'content-type': 'application/x-ndjson', 'content-disposition': `attachment; filename="linkage-${job.id}.ndjson"` };
      for (const [name, value] of Object.entries(headers)) c.header(name, value);
      return stream(c, async (out) => {
        if (format === 'csv') await out.write(csvLines([['left_id', 'right_id', 'probability', 'grade', 'match_weight', 'cluster']]));
        for await (const r of allLinkageResults(ctx, opened)) {
          await out.write(format === 'csv' ? csvLines([[r.leftId, r.rightId, r.probability ?? null, r.grade, r.matchWeight ?? null, r.cluster]]) : `${JSON.stringify(r)}\n`);
        }
      }) as never;
    });
  }
}
