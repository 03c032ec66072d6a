/** Datasets, their uploads and their records: a partner's own data. */
import { createRoute, z } from '@hono/zod-openapi';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { createDataset, createDatasetInput } from '../../services/create-dataset.js';
import { eraseRecord, liftErasures } from '../../services/erase-record.js';
import { getRecord } from '../../services/get-record.js';
import { getUpload, listUploads } from '../../services/get-upload.js';
import { getDataset, listDatasets } from '../../services/list-datasets.js';
import { uploadDataset } from '../../services/upload-dataset.js';
import { datasetSchema } from '../../store/datasets.js';
import { uploadSchema, uploadSummarySchema } from '../../store/uploads.js';
import type { App } from '../app.js';
import { serviceContext } from '../env.js';
import { requireActor } from '../middleware/require-actor.js';
import { bearerSecurity, createdResponse, jsonResponse, pageQuery, pageResponse, withNextLink } from '../openapi.js';
import { csvDownloadHeaders, csvLines } from '../csv.js';
import { etagHeaders, ifNoneMatchHeader, notModifiedResponse, respondWithEntityTag } from '../conditional.js';
import { problemResponses } from '../problem.js';

const partnerOnly = requireActor('partner');
const datasetParams = z.object({ datasetId: z.string().max(100) });

const create = createRoute({
  method: 'post',
  path: '/v1/datasets',
  operationId: 'createDataset',
  tags: ['datasets'],
  summary: 'Create a dataset',
  description: 'Creates a dataset of yours, named uniquely, optionally with the mapping its uploads use by default.',
  security: bearerSecurity,
  middleware: partnerOnly,
  request: { body: { required: true, content: { 'application/json': { schema: createDatasetInput } } } },
  responses: { 201: createdResponse(datasetSchema, 'Created'), ...problemResponses(400, 401, 403, 409) },
});

const list = createRoute({
  method: 'get',
  path: '/v1/datasets',
  operationId: 'listDatasets',
  tags: ['datasets'],
  summary: 'Your datasets',
  description: 'Your datasets, with their record counts and default mappings.',
  security: bearerSecurity,
  middleware: partnerOnly,
  request: { query: pageQuery },
  responses: { 200: pageResponse(datasetSchema, 'A page of your datasets, oldest first'), ...problemResponses(400, 401, 403) },
});

const get = createRoute({
  method: 'get',
  path: '/v1/datasets/{datasetId}',
  operationId: 'getDataset',
  tags: ['datasets'],
  summary: 'One of your datasets',
  description: 'One of your datasets; another partner\'s is 404.',
  security: bearerSecurity,
  middleware: partnerOnly,
  request: { params: datasetParams },
  responses: { 200: jsonResponse(datasetSchema, 'The dataset'), ...problemResponses(401, 403, 404) },
});

const upload = createRoute({
  method: 'post',
  path: '/v1/datasets/{datasetId}/uploads',
  operationId: 'createUpload',
  tags: ['datasets'],
  summary: 'Upload an export into a dataset (streamed; stored whole or not at all)',
  description:
    'The body is the export itself: text/csv, application/x-ndjson or application/json (the content type picks the reader). ' +
    'The mapping is `?mapping=` or the dataset\'s default; NDJSON without a mapping must already be canonical records. ' +
    'A retry with the same Idempotency-Key returns the first upload instead of loading again.',
  security: bearerSecurity,
  middleware: partnerOnly,
  request: {
    params: datasetParams,
    query: z.object({
      mapping: z.string().max(100).optional(),
      strict: z.enum(['true', 'false']).optional().describe('Stop at the first error; store nothing.'),
    }),
    headers: z.object({ 'idempotency-key': z.string().min(1).max(200).optional() }),
    body: {
      required: true,
      content: {
        'text/csv': { schema: z.string() },
        'application/x-ndjson': { schema: z.string() },
        // A JSON Schema, not zod: a zod schema here would have the route parse and validate the
        // whole body, and an upload streams (under its own size limit).
        'application/json': { schema: { type: 'array', items: { type: 'object' }, description: "The export's rows as objects, or canonical records (?mapping=canonical)." } },
      },
    },
  },
  responses: {
    201: createdResponse(uploadSchema, 'Stored'),
    200: jsonResponse(uploadSchema, 'Already stored under this Idempotency-Key'),
    ...problemResponses(400, 401, 403, 404, 413, 415, 422),
  },
});

const uploadParams = datasetParams.extend({ uploadId: z.string().max(100) });

const listUploadsRoute = createRoute({
  method: 'get',
  path: '/v1/datasets/{datasetId}/uploads',
  operationId: 'listUploads',
  tags: ['datasets'],
  summary: 'A dataset\'s uploads, newest first',
  description: 'The uploads into one of your datasets, newest first, a page at a time: status and counts (GET one upload for its quality report).',
  security: bearerSecurity,
  middleware: partnerOnly,
  request: { params: datasetParams, query: pageQuery },
  responses: { 200: pageResponse(uploadSummarySchema, 'A page of uploads'), ...problemResponses(400, 401, 403, 404) },
});

const getUploadRoute = createRoute({
  method: 'get',
  path: '/v1/datasets/{datasetId}/uploads/{uploadId}',
  operationId: 'getUpload',
  tags: ['datasets'],
  summary: 'An upload: status, counts and the quality report',
  description: 'An upload\'s status, its counts (accepted, rejected, inserted, updated, unchanged) and its per-field quality report.',
  security: bearerSecurity,
  middleware: partnerOnly,
  request: { params: uploadParams },
  responses: { 200: jsonResponse(uploadSchema, 'The upload'), ...problemResponses(401, 403, 404) },
});

const rejectedRows = createRoute({
  method: 'get',
  path: '/v1/datasets/{datasetId}/uploads/{uploadId}/rejected.csv',
  operationId: 'getRejectedRows',
  tags: ['datasets'],
  summary: 'The rejected rows of an upload with their reasons, as CSV',
  description: 'The rows an upload rejected, as CSV: row number, field and the reason, for the sender to fix and send again.',
  security: bearerSecurity,
  middleware: partnerOnly,
  request: { params: uploadParams },
  responses: { 200: { description: 'row,source_id,column,value,field,reason', content: { 'text/csv': { schema: z.string() } } }, ...problemResponses(401, 403, 404) },
});

const recordParams = datasetParams.extend({ sourceId: z.string().min(1).max(200) });

const getRecordRoute = createRoute({
  method: 'get',
  path: '/v1/datasets/{datasetId}/records/{sourceId}',
  operationId: 'getRecord',
  tags: ['datasets'],
  summary: 'A record as it is now, or as it was at ?asOf=',
  description:
    'A record of yours by its source id, as it is now or as it was at ?asOf= (every version is kept until erased). ' +
    'The ETag names the version: send it back as If-None-Match and an unchanged record answers 304 with no body.',
  security: bearerSecurity,
  middleware: partnerOnly,
  request: { params: recordParams, query: z.object({ asOf: z.iso.datetime({ offset: true }).optional() }), headers: ifNoneMatchHeader },
  responses: {
    200: {
      ...jsonResponse(
        z.object({ sourceId: z.string(), version: z.number().int(), validFrom: z.date(), validTo: z.date().nullable(), record: z.record(z.string(), z.unknown()) }),
        'The record version',
      ),
      headers: etagHeaders,
    },
    304: notModifiedResponse,
    ...problemResponses(400, 401, 403, 404),
  },
});

const eraseRoute = createRoute({
  method: 'delete',
  path: '/v1/datasets/{datasetId}/records/{sourceId}',
  operationId: 'eraseRecord',
  tags: ['datasets'],
  summary: 'Erase a record: the personal data of every version (right to erasure)',
  description: 'Erases the personal data of every version of a record (right to erasure) and keeps a tombstone so that it is not uploaded again by mistake; audited.',
  security: bearerSecurity,
  middleware: partnerOnly,
  request: { params: recordParams },
  responses: {
    200: jsonResponse(
      z.object({
        erased: z.literal(true),
        versions: z.number().int().describe('Versions whose personal data went.'),
        uploadReports: z.number().int().describe('Upload reports that named the record (rejected or cut-down rows, duplicate flags) and no longer hold its values.'),
        linkageResults: z.number().int().describe('Stored linkage links (yours and your grantees\') that named the record and are gone.'),
      }),
      'Erased',
    ),
    ...problemResponses(401, 403, 404),
  },
});

const liftRoute = createRoute({
  method: 'post',
  path: '/v1/datasets/{datasetId}/erasures/lift',
  operationId: 'liftErasures',
  tags: ['datasets'],
  summary: 'Let erased records be uploaded again',
  description: 'An erased source id stays erased: later uploads refuse its rows (reason `erased`). Lifting the erasure lets the next upload bring the record back. Audited.',
  security: bearerSecurity,
  middleware: partnerOnly,
  request: { params: datasetParams, body: { required: true, content: { 'application/json': { schema: z.object({ sourceIds: z.array(z.string().min(1).max(200)).min(1).max(1000) }).strict() } } } },
  responses: { 200: jsonResponse(z.object({ lifted: z.number().int().describe('How many of the ids were erased and are no longer.') }), 'Lifted'), ...problemResponses(400, 401, 403, 404) },
});


function declaredLength(header: string | undefined): number | undefined {
  return header !== undefined && /^\d+$/.test(header) ? Number(header) : undefined;
}

export function registerDatasets(app: App): void {
  app.openapi(create, async (c) => {
    const dataset = await createDataset({ ctx: serviceContext(c), input: c.req.valid('json') });
    c.header('location', `/v1/datasets/${dataset.id}`);
    return c.json(dataset, 201);
  });
  app.openapi(list, async (c) => {
    const { cursor, limit } = c.req.valid('query');
    return c.json(withNextLink(c, await listDatasets({ ctx: serviceContext(c), page: { after: cursor, limit } })), 200);
  });
  app.openapi(listUploadsRoute, async (c) => {
    const { cursor, limit } = c.req.valid('query');
    return c.json(withNextLink(c, await listUploads({ ctx: serviceContext(c), datasetId: c.req.valid('param').datasetId, page: { after: cursor, limit } })), 200);
  });
  app.openapi(get, async (c) => c.json(await getDataset({ ctx: serviceContext(c), datasetId: c.req.valid('param').datasetId }), 200));
  app.openapi(upload, async (c) => {
    const { datasetId } = c.req.valid('param');
    const { mapping, strict } = c.req.valid('query');
    const stream = c.req.raw.body;
    const body = stream ? Readable.fromWeb(stream as unknown as WebReadableStream<Uint8Array>) : Readable.from([]);
    // A client that goes away mid-upload aborts the request's signal, but its body stream may just
    // stall: end it with an error, so the upload rolls back and its connection is freed.
    const signal = c.req.raw.signal;
    const onAbort = () => body.destroy(new Error('aborted: the client closed the connection'));
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    const result = await uploadDataset({
      ctx: serviceContext(c),
      datasetId,
      input: {
        body,
        contentType: c.req.header('content-type'),
        contentLength: declaredLength(c.req.header('content-length')),
        mapping,
        strict: strict === 'true',
        idempotencyKey: c.req.valid('header')['idempotency-key'],
      },
    });
    c.header('location', `/v1/datasets/${datasetId}/uploads/${result.upload.id}`);
    return c.json(result.upload, result.replayed ? 200 : 201);
  });
  app.openapi(getUploadRoute, async (c) => {
    const { datasetId, uploadId } = c.req.valid('param');
    return c.json(await getUpload({ ctx: serviceContext(c), datasetId, uploadId }), 200);
  });
  app.openapi(rejectedRows, async (c) => {
    const { datasetId, uploadId } = c.req.valid('param');
    const found = await getUpload({ ctx: serviceContext(c), datasetId, uploadId });
    const issues = ((found.report.issues ?? []) as Record<string, unknown>[]).filter((i) => i.severity === 'rejected');
    const columns = ['row', 'sourceId', 'column', 'value', 'field', 'reason'];
    const text = csvLines([['row', 'source_id', 'column', 'value', 'field', 'reason'], ...issues.map((i) => columns.map((k) => i[k]))]);
    return c.body(text, 200, csvDownloadHeaders(`upload-${uploadId}-rejected.csv`));
  });
  app.openapi(getRecordRoute, async (c) => {
    const { datasetId, sourceId } = c.req.valid('param');
    const version = await getRecord({ ctx: serviceContext(c), datasetId, sourceId, asOf: c.req.valid('query').asOf });
    return respondWithEntityTag(c, version.version, { sourceId: version.sourceId, version: version.version, validFrom: version.validFrom, validTo: version.validTo, record: version.record });
  });
  app.openapi(eraseRoute, async (c) => {
    const { datasetId, sourceId } = c.req.valid('param');
    const { versions, uploadReports, linkageResults } = await eraseRecord({ ctx: serviceContext(c), datasetId, sourceId });
    return c.json({ erased: true as const, versions, uploadReports, linkageResults }, 200);
  });
  app.openapi(liftRoute, async (c) =>
    c.json(await liftErasures({ ctx: serviceContext(c), datasetId: c.req.valid('param').datasetId, sourceIds: c.req.valid('json').sourceIds }), 200),
  );
}
