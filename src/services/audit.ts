/**
 * What auditors (and partners, for their own events) read of the audit log: events by filter,
 * exports, summaries, proofs and receipts. An auditor reads everything; a partner only events
 * where it acted or is the subject (or the grantee); anything else answers 404, as if absent.
 * Auditor reads and exports are themselves audited.
 */
import { z } from 'zod';
import { auditActions } from '../audit/events.js';
import { checkpointFor, proveConsistency, proveInclusion, tlogProof } from '../audit/log.js';
import type { Verifier } from '../audit/note.js';
import { recordEvent } from '../audit/record-event.js';
import { verifyLog } from '../audit/verify.js';
import { AppError, notFound } from '../errors.js';
import { countAuditEvents, selectAuditEvents, type AuditEvent, type AuditFilter } from '../store/audit-events.js';
import { selectCosignatures, selectEntries } from '../store/audit-log.js';
import { actingPartnerId, type ServiceContext } from './context.js';

export const auditQuerySchema = z
  .object({
    action: z.enum(auditActions).optional(),
    outcome: z.enum(['success', 'denied', 'failure']).optional(),
    partner: z.uuid().optional().describe('Events where this partner acted, is the subject or the grantee.'),
    jti: z.string().min(1).max(200).optional(),
    dataset: z.uuid().optional(),
    from: z.iso.datetime({ offset: true }).optional().describe('From this instant (inclusive).'),
    to: z.iso.datetime({ offset: true }).optional().describe('Until this instant (exclusive).'),
    cursor: z.string().regex(/^[0-9]{1,19}$/).optional().describe('The nextCursor of the previous page.'),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  })
  .strict();
export type AuditQuery = z.infer<typeof auditQuerySchema>;

const filtersNamed = (query: Partial<AuditQuery>) =>
  (['action', 'outcome', 'partner', 'jti', 'dataset', 'from', 'to'] as const).filter((k) => query[k] !== undefined);

/** The filter a caller may use: a partner's is always narrowed to its own events. */
function scopedFilter(ctx: ServiceContext, query: Partial<AuditQuery>): AuditFilter {
  const own = actingPartnerId(ctx.actor);
  if (own && query.partner && query.partner !== own) throw notFound('The partner');
  return {
    action: query.action,
    outcome: query.outcome,
    partnerId: own ?? query.partner,
    jti: query.jti,
    datasetId: query.dataset,
    from: query.from ? new Date(query.from) : undefined,
    to: query.to ? new Date(query.to) : undefined,
    after: query.cursor ? Number(query.cursor) : undefined,
  };
}

async function audited(ctx: ServiceContext, action: 'audit.read' | 'audit.export', details: Record<string, unknown>): Promise<void> {
  await recordEvent(ctx.db, ctx, { action, targetType: 'audit_log', details });
}

export async function listAuditEvents({ ctx, query }: { ctx: ServiceContext; query: AuditQuery }): Promise<{ items: AuditEvent[]; nextCursor: string | null }> {
  const limit = query.limit;
  const rows = await selectAuditEvents(ctx.db, { ...scopedFilter(ctx, query), limit: limit + 1 });
  const items = rows.slice(0, limit);
  await audited(ctx, 'audit.read', { what: 'events', filters: filtersNamed(query), returned: items.length });
  return { items, nextCursor: rows.length > limit ? String(items[items.length - 1]!.id) : null };
}

/** Every matching event, a page at a time, for streaming exports; the export is audited at its end. */
export async function* exportAuditEvents({ ctx, query, format }: { ctx: ServiceContext; query: Partial<AuditQuery>; format: string }): AsyncGenerator<AuditEvent> {
  const filter = scopedFilter(ctx, query);
  let returned = 0;
  for (let after = filter.after ?? 0; ; ) {
    const page = await selectAuditEvents(ctx.db, { ...filter, after, limit: 1000 });
    for (const event of page) yield event;
    returned += page.length;
    if (page.length < 1000) break;
    after = page[page.length - 1]!.id;
  }
  await audited(ctx, 'audit.export', { format, filters: filtersNamed(query), returned });
}

export async function summariseAuditEvents({ ctx, query }: { ctx: ServiceContext; query: Partial<AuditQuery> }) {
  const { partnerId, from, to } = scopedFilter(ctx, query);
  const rows = await countAuditEvents(ctx.db, { partnerId, from, to });
  const total = (pick: (r: (typeof rows)[number]) => string | null) => {
    const out: Record<string, number> = {};
    for (const row of rows) {
      const key = pick(row) ?? 'none';
      out[key] = (out[key] ?? 0) + row.events;
    }
    return out;
  };
  await audited(ctx, 'audit.read', { what: 'summary', filters: filtersNamed(query), returned: rows.length });
  return {
    events: rows.reduce((n, r) => n + r.events, 0),
    byPartner: total((r) => r.partnerId),
    byAction: total((r) => r.action),
    byPurpose: total((r) => r.purpose),
    refusals: total((r) => (r.outcome === 'success' ? null : r.action)),
  };
}

const parseSize = (value: string | undefined, what: string) => {
  if (value === undefined) return undefined;
  if (!/^(0|[1-9][0-9]{0,18})$/.test(value)) throw new AppError('validation_failed', `${what} is a whole number of entries.`, { errors: [{ path: what, message: 'a non-negative integer' }] });
  return BigInt(value);
};

/** The entry at `index`, if the caller may see it (a partner: only its own events). */
async function visibleEntry(ctx: ServiceContext, index: bigint): Promise<string> {
  const [entry] = await selectEntries(ctx.db, index, index + 1n);
  if (!entry) throw notFound('The log entry');
  const own = actingPartnerId(ctx.actor);
  if (own) {
    const event = JSON.parse(entry) as { partner: string | null; actor: { partner: string | null }; details: { grantee?: string } };
    if (event.partner !== own && event.actor.partner !== own && event.details.grantee !== own) throw notFound('The log entry');
  }
  return entry;
}

async function checkpointOrRefuse(ctx: ServiceContext, treeSize: bigint | undefined) {
  const checkpoint = await checkpointFor(ctx.db, treeSize);
  if (!checkpoint) {
    throw treeSize === undefined
      ? new AppError('unavailable', 'The audit log has no checkpoint yet; try again in a few seconds.')
      : notFound(`A checkpoint of size ${treeSize}`);
  }
  return checkpoint;
}

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

export async function inclusionProofOf({ ctx, index, treeSize }: { ctx: ServiceContext; index: string; treeSize?: string }) {
  const at = parseSize(index, 'index')!;
  const entry = await visibleEntry(ctx, at);
  const checkpoint = await checkpointOrRefuse(ctx, parseSize(treeSize, 'treeSize'));
  if (at >= checkpoint.size) throw new AppError('conflict', `Entry ${at} is not yet in a checkpoint (the latest has ${checkpoint.size} entries); ask again shortly.`, { reason: 'not_yet_integrated' });
  const answer = await proveInclusion(ctx.db, at, checkpoint, entry);
  return { index: String(at), treeSize: String(checkpoint.size), entry, leafHash: b64(answer.leafHash), proof: answer.proof.map(b64), rootHash: b64(checkpoint.root), checkpoint: checkpoint.note };
}

export async function consistencyProofOf({ ctx, from, to }: { ctx: ServiceContext; from: string; to?: string }) {
  const older = await checkpointOrRefuse(ctx, parseSize(from, 'from'));
  const newer = await checkpointOrRefuse(ctx, parseSize(to, 'to'));
  if (older.size > newer.size) throw new AppError('validation_failed', 'from must not be larger than to.', { errors: [{ path: '/from', message: 'larger than to', in: 'query' }] });
  const proof = await proveConsistency(ctx.db, older.size, newer.size);
  return { from: String(older.size), to: String(newer.size), proof: proof.map(b64), fromRoot: b64(older.root), toRoot: b64(newer.root), checkpoint: newer.note };
}

/** A receipt for one event: c2sp.org/tlog-proof@v1, verifiable offline with the exchange's vkey. */
export async function receiptOf({ ctx, index }: { ctx: ServiceContext; index: string }): Promise<string> {
  const at = parseSize(index, 'index')!;
  const entry = await visibleEntry(ctx, at);
  const checkpoint = await checkpointOrRefuse(ctx, undefined);
  if (at >= checkpoint.size) throw new AppError('conflict', `Entry ${at} is not yet in a checkpoint; ask again shortly.`, { reason: 'not_yet_integrated' });
  const answer = await proveInclusion(ctx.db, at, checkpoint, entry);
  return tlogProof(answer, entry, (await selectCosignatures(ctx.db, checkpoint.size)).map((c) => c.line));
}


/**
 * The log's entries in log order, `treeSize` of them (default the latest checkpoint's), for
 * `cx audit verify --entries`: the whole log, so auditors only, and no filters (a filtered log
 * cannot hash to any root).
 */
export async function* exportLogEntries({ ctx, treeSize }: { ctx: ServiceContext; treeSize?: string }): AsyncGenerator<string> {
  const checkpoint = await checkpointOrRefuse(ctx, parseSize(treeSize, 'treeSize'));
  const page = 8192n;
  for (let from = 0n; from < checkpoint.size; from += page) {
    const to = from + page < checkpoint.size ? from + page : checkpoint.size;
    for (const entry of await selectEntries(ctx.db, from, to)) yield entry;
  }
  await audited(ctx, 'audit.export', { format: 'entries', filters: [], returned: Number(checkpoint.size) });
}

/** Whether a full check is running on a database: one at a time, it reads the whole log. */
const verifying = new WeakSet<object>();

/** The full check of `cx audit verify`, for auditors: every entry rehashed, every checkpoint. */
export async function verifyAuditLog({ ctx, log }: { ctx: ServiceContext; log: Verifier }) {
  if (verifying.has(ctx.db)) throw new AppError('conflict', 'A verification of the audit log is running; ask again when it has finished.', { reason: 'verification_running' });
  verifying.add(ctx.db);
  try {
    const started = performance.now();
    const report = await verifyLog(ctx.db, [log]);
    await audited(ctx, 'audit.read', { what: 'verify', filters: [], returned: report.problems.length });
    return {
      ok: report.ok,
      size: String(report.size),
      checkpoints: report.checkpoints,
      problems: report.problems.slice(0, 100),
      problemCount: report.problems.length,
      seconds: Math.round(performance.now() - started) / 1000,
    };
  } finally {
    verifying.delete(ctx.db);
  }
}
