/**
 * The audit log. Public, in the C2SP tlog-tiles layout, so that any tlog client can mirror and
 * verify it: /audit/checkpoint, /audit/tile/<L>/<N>[.p/<W>], /audit/tile/entries/<N>[.p/<W>], and
 * the verifier key beside the JWKS. For auditors (and partners, their own events): events by
 * filter, exports (NDJSON, CSV, FHIR R4 AuditEvent), a summary, proofs and receipts.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { stream } from 'hono/streaming';
import { fhirAuditEvent } from '../../audit/fhir.js';
import { parseTilePath, readTile } from '../../audit/log.js';
import { parseVerifierKey } from '../../audit/note.js';
import { AppError } from '../../errors.js';
import { auditQuerySchema, consistencyProofOf, exportAuditEvents, exportLogEntries, inclusionProofOf, listAuditEvents, receiptOf, summariseAuditEvents, verifyAuditLog } from '../../services/audit.js';
import { auditEventSchema } from '../../store/audit-events.js';
import { selectCosignatures, selectLatestCheckpoint } from '../../store/audit-log.js';
import type { App } from '../app.js';
import { csvDownloadHeaders, csvLines } from '../csv.js';
import { serviceContext } from '../env.js';
import { requireActor } from '../middleware/require-actor.js';
import { bearerSecurity, jsonResponse, nextLinkHeader, withNextLink } from '../openapi.js';
import { problemResponses } from '../problem.js';

const eventsPage = z.object({ items: z.array(auditEventSchema), nextCursor: z.string().nullable() });

const list = createRoute({
  method: 'get',
  path: '/v1/audit/events',
  operationId: 'listAuditEvents',
  tags: ['audit'],
  summary: 'Audit events by filter, oldest first (auditor; a partner sees its own)',
  description: 'Audit events by filter (action, partner, outcome, time), oldest first, a page at a time; an auditor sees every partner\'s, a partner its own.',
  security: bearerSecurity,
  middleware: [requireActor('auditor', 'admin', 'partner')] as const,
  request: { query: auditQuerySchema },
  responses: { 200: { ...jsonResponse(eventsPage, 'A page of events; nextCursor fetches the next'), headers: nextLinkHeader }, ...problemResponses(400, 401, 403, 404) },
});

const exportQuery = auditQuerySchema.omit({ cursor: true, limit: true }).extend({ format: z.enum(['ndjson', 'csv', 'fhir']).default('ndjson') });

const exportEvents = createRoute({
  method: 'get',
  path: '/v1/audit/export',
  operationId: 'exportAuditEvents',
  tags: ['audit'],
  summary: 'Every matching event, streamed: NDJSON, CSV, or FHIR R4 AuditEvent NDJSON (IHE BALP)',
  description: 'Every matching audit event, streamed: NDJSON, CSV, or FHIR R4 AuditEvent NDJSON (IHE BALP).',
  security: bearerSecurity,
  middleware: [requireActor('auditor', 'admin', 'partner')] as const,
  request: { query: exportQuery },
  responses: {
    200: { description: 'The events', content: { 'application/x-ndjson': { schema: z.string() }, 'text/csv': { schema: z.string() }, 'application/fhir+ndjson': { schema: z.string() } } },
    ...problemResponses(400, 401, 403, 404),
  },
});

const summary = createRoute({
  method: 'get',
  path: '/v1/audit/summary',
  operationId: 'getAuditSummary',
  tags: ['audit'],
  summary: 'Counts of events per partner, action, purpose, and of refusals',
  description: 'Counts of audit events per partner, action and purpose, and of refusals, over a time range.',
  security: bearerSecurity,
  middleware: [requireActor('auditor', 'admin', 'partner')] as const,
  request: { query: auditQuerySchema.pick({ partner: true, from: true, to: true }) },
  responses: {
    200: jsonResponse(
      z.object({ events: z.number().int(), byPartner: z.record(z.string(), z.number()), byAction: z.record(z.string(), z.number()), byPurpose: z.record(z.string(), z.number()), refusals: z.record(z.string(), z.number()) }),
      'Counts',
    ),
    ...problemResponses(400, 401, 403, 404),
  },
});

const proof = createRoute({
  method: 'get',
  path: '/v1/audit/events/{index}/proof',
  operationId: 'getInclusionProof',
  tags: ['audit'],
  summary: 'The inclusion proof of log entry {index} in a checkpointed tree (RFC 9162)',
  description: 'The RFC 9162 inclusion proof of a log entry in the tree of a signed checkpoint.',
  security: bearerSecurity,
  middleware: [requireActor()] as const,
  request: { params: z.object({ index: z.string() }), query: z.object({ treeSize: z.string().optional().describe('A checkpointed size; default the latest.') }) },
  responses: {
    200: jsonResponse(
      z.object({ index: z.string(), treeSize: z.string(), entry: z.string(), leafHash: z.string(), proof: z.array(z.string()), rootHash: z.string(), checkpoint: z.string() }),
      'The entry, its leaf hash, the audit path (base64) and the signed checkpoint',
    ),
    ...problemResponses(400, 401, 404, 409, 503),
  },
});

const consistency = createRoute({
  method: 'get',
  path: '/v1/audit/consistency',
  operationId: 'getConsistencyProof',
  tags: ['audit'],
  summary: 'The consistency proof between two checkpointed sizes (RFC 9162)',
  description: 'The RFC 9162 consistency proof between two checkpointed tree sizes: the larger log extends the smaller.',
  security: bearerSecurity,
  middleware: [requireActor()] as const,
  request: { query: z.object({ from: z.string(), to: z.string().optional().describe('Default the latest checkpoint.') }) },
  responses: {
    200: jsonResponse(
      z.object({ from: z.string(), to: z.string(), proof: z.array(z.string()), fromRoot: z.string(), toRoot: z.string(), checkpoint: z.string() }),
      'The proof (base64 hashes) and both roots',
    ),
    ...problemResponses(400, 401, 404, 503),
  },
});

const receipt = createRoute({
  method: 'get',
  path: '/v1/audit/events/{index}/receipt',
  operationId: 'getReceipt',
  tags: ['audit'],
  summary: 'A receipt for one of your events: c2sp.org/tlog-proof@v1, verifiable offline',
  description: 'A receipt for one of your events (c2sp.org/tlog-proof@v1): the entry, its inclusion proof and the signed checkpoint, verifiable offline.',
  security: bearerSecurity,
  middleware: [requireActor()] as const,
  request: { params: z.object({ index: z.string() }) },
  responses: { 200: { description: 'The receipt', content: { 'text/plain': { schema: z.string() } } }, ...problemResponses(400, 401, 404, 409, 503) },
});

const entries = createRoute({
  method: 'get',
  path: '/v1/audit/entries',
  operationId: 'listAuditEntries',
  tags: ['audit'],
  summary: "The log's entries in log order, one JSON entry a line, for `cx audit verify --entries` (auditor; pass the size of GET /audit/checkpoint as treeSize)",
  description: 'The log\'s entries in log order, one JSON entry a line, up to treeSize: what `cx audit verify --entries` reads (auditors).',
  security: bearerSecurity,
  middleware: [requireActor('auditor', 'admin')] as const,
  request: { query: z.object({ treeSize: z.string().optional().describe('A checkpointed size; default the latest.') }) },
  responses: { 200: { description: 'The entries', content: { 'application/x-ndjson': { schema: z.string() } } }, ...problemResponses(400, 401, 403, 404, 503) },
});

const verifyReport = z.object({
  ok: z.boolean(),
  size: z.string().describe('Entries checked'),
  checkpoints: z.number().int().describe('Signed checkpoints checked'),
  problems: z.array(z.object({ index: z.string().optional(), eventId: z.number().int().optional(), problem: z.string() })).describe('The first 100 problems, in log order'),
  problemCount: z.number().int(),
  seconds: z.number(),
});

const verify = createRoute({
  method: 'get',
  path: '/v1/audit/verify',
  operationId: 'verifyAuditLog',
  tags: ['audit'],
  summary: 'The full check of the log, as `cx audit verify` runs it: every entry against its event and rehashed, the tree, every checkpoint (auditor)',
  description: 'Runs the full check of the log (auditors): every entry against its event, rehashed, the tree and every checkpoint.',
  security: bearerSecurity,
  middleware: [requireActor('auditor', 'admin')] as const,
  responses: { 200: jsonResponse(verifyReport, 'The report: ok, or the problems from the first index that does not match'), ...problemResponses(401, 403, 409, 503) },
});

const csvHeader = ['logIndex', 'id', 'occurredAt', 'action', 'outcome', 'actorType', 'actorId', 'actorPartnerId', 'partnerId', 'targetType', 'targetId', 'requestId', 'details'];

export function registerAudit(app: App): void {
  app.openapi(list, async (c) => c.json(withNextLink(c, await listAuditEvents({ ctx: serviceContext(c), query: c.req.valid('query') })), 200));
  app.openapi(summary, async (c) => c.json(await summariseAuditEvents({ ctx: serviceContext(c), query: c.req.valid('query') }), 200));
  app.openapi(proof, async (c) => c.json(await inclusionProofOf({ ctx: serviceContext(c), index: c.req.valid('param').index, treeSize: c.req.valid('query').treeSize }), 200));
  app.openapi(consistency, async (c) => c.json(await consistencyProofOf({ ctx: serviceContext(c), ...c.req.valid('query') }), 200));
  app.openapi(receipt, async (c) => {
    const text = await receiptOf({ ctx: serviceContext(c), index: c.req.valid('param').index });
    return c.text(text, 200, { 'content-disposition': `attachment; filename="audit-${c.req.valid('param').index}.tlog-proof"` });
  });
  app.openapi(verify, async (c) => {
    const log = c.get('deps').auditLog;
    if (!log) throw new AppError('unavailable', 'The audit log is not configured on this exchange.');
    return c.json(await verifyAuditLog({ ctx: serviceContext(c), log: parseVerifierKey(log.signer.vkey) }), 200);
  });
  app.openapi(entries, async (c) => {
    const lines = exportLogEntries({ ctx: serviceContext(c), treeSize: c.req.valid('query').treeSize });
    // The checkpoint is looked up before answering, so that a wrong size is a problem, not a broken stream.
    const first = await lines.next();
    c.header('content-type', 'application/x-ndjson');
    c.header('content-disposition', 'attachment; filename="audit-log.entries.ndjson"');
    return stream(c, async (out) => {
      if (!first.done) await out.write(`${first.value}\n`);
      for await (const line of { [Symbol.asyncIterator]: () => lines }) await out.write(`${line}\n`);
    }) as never; // hono types a single-content-type answer as typed JSON; this one is a stream

  });
  app.openapi(exportEvents, async (c) => {
    const { format, ...query } = c.req.valid('query');
    const ctx = serviceContext(c);
    const events = exportAuditEvents({ ctx, query, format });
    // The first page is read before answering, so that a refused filter is a problem, not a broken stream.
    const first = await events.next();
    const headers: Record<string, string> =
      format === 'csv'
        ? csvDownloadHeaders('audit-events.csv')
        : { 'content-type': format === 'fhir' ? 'application/fhir+ndjson' : 'application/x-ndjson', 'content-disposition': `attachment; filename="audit-events.${format === 'fhir' ? 'fhir.' : ''}ndjson"` };
    for (const [name, value] of Object.entries(headers)) c.header(name, value);
    return stream(c, async (out) => {
      const line = (event: z.infer<typeof auditEventSchema>) =>
        format === 'csv'
          ? csvLines([csvHeader.slice(0, 12).map((k) => (event as Record<string, unknown>)[k]).map((v) => (v instanceof Date ? v.toISOString() : v)).concat(JSON.stringify(event.details))])
          : `${JSON.stringify(format === 'fhir' ? fhirAuditEvent(event) : event)}\n`;
      if (format === 'csv') await out.write(csvLines([csvHeader]));
      if (!first.done) await out.write(line(first.value));
      for await (const event of { [Symbol.asyncIterator]: () => events }) await out.write(line(event));
    });
  });

  // tlog-tiles: public and cacheable, outside the OpenAPI document's JSON API.
  app.get('/audit/checkpoint', async (c) => {
    const checkpoint = await selectLatestCheckpoint(c.get('deps').db);
    if (!checkpoint) return c.text('no checkpoint yet\n', 404, { 'cache-control': 'no-store' });
    const cosignatures = await selectCosignatures(c.get('deps').db, checkpoint.size);
    return c.body(`${checkpoint.note}${cosignatures.map((s) => s.line).join('')}`, 200, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-cache' });
  });
  app.get('/audit/tile/*', async (c) => {
    const tile = parseTilePath(c.req.path.slice('/audit/tile/'.length));
    if (!tile) return c.text('not a tlog-tiles path\n', 400);
    const bytes = await readTile(c.get('deps').db, tile);
    if (!bytes) return c.text('no such tile yet\n', 404, { 'cache-control': 'no-store' });
    // A tile of a given width never changes: full or partial, it can be cached for good.
    return c.body(bytes as Uint8Array<ArrayBuffer>, 200, { 'content-type': 'application/octet-stream', 'cache-control': 'public, max-age=31536000, immutable' });
  });
  app.get('/.well-known/audit-log.vkey', (c) => {
    const log = c.get('deps').auditLog;
    if (!log) return c.text('the audit log is not configured\n', 404);
    return c.text(`${log.signer.vkey}\n`, 200, { 'cache-control': 'public, max-age=300' });
  });
}
