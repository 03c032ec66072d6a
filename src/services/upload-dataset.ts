/**
 * Uploads an export into a dataset, atomically: the body is mapped as it streams in, staged with
 * COPY in batches, and published as new record versions in one transaction with its audit event
 * (a first load on the embedded engine commits in slices that stay hidden until the last one).
 * A rejected upload (strict mode, too many rejected rows, unusable input, over the size limit) or
 * a crash leaves no record behind; a rejected one is kept as an upload with its report.
 */
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { recordEvent } from '../audit/record-event.js';
import { AppError } from '../errors.js';
import { canonicalMapping } from '../mapping/compile.js';
import { MappingError, type Mapping } from '../mapping/load.js';
import { columnsOf } from '../mapping/mapping-schema.js';
import { mergeRecords } from '../mapping/merge.js';
import { InputError, storableText } from '../mapping/readers.js';
import { StrictModeError, type MappingReport } from '../mapping/run.js';
import type { CustomerRecord } from '../standard/customer.js';
import {
  clearStaging,
  copyToStaging,
  createStaging,
  datasetHasVersions,
  lockDatasetForUpload,
  openFirstLoad,
  publishStaged,
  rewriteOwnVersions,
  discardSlices,
  stageSlice,
  unstageSlices,
  selectCurrentRecords,
  stagingLine,
  prepareRecord,
  type PreparedRecord,
} from '../store/records.js';
import { forLongWork, type Queryable } from '../store/database.js';
import { beginLoading, discardLoading, finishLoading, oneUploadAtATime } from '../store/loading.js';
import { insertUpload, releaseIdempotencyKey, selectUploadByIdempotencyKey, type Upload } from '../store/uploads.js';
import type { ServiceContext } from './context.js';
import { findOwnDataset, requirePartner } from './datasets.js';
import { mapUpload } from './map-upload.js';
import { findMapping } from './mappings.js';
import { byteCounter, fingerprintOf, UploadTooLarge } from './upload-body.js';
import { erasedSourceIds } from './upload-tombstones.js';

const formatsByContentType: Record<string, Mapping['source']['format']> = {
  'text/csv': 'csv',
  'application/x-ndjson': 'ndjson',
  'application/ndjson': 'ndjson',
  'application/json': 'json',
};
const COPY_BATCH_ROWS = 5000;
/** Smaller, so that the server has the next rows while this process maps more. */
const DIRECT_BATCH_ROWS = 1000;

export interface UploadInput {
  body: Readable;
  contentType: string | undefined;
  /** The body's declared size, when the client sent one. */
  contentLength?: number;
  mapping?: string;
  strict?: boolean;
  idempotencyKey?: string;
}

class TooManyRejected extends Error {
  override readonly name = 'TooManyRejected';
}

/**
 * After a large upload the planner's statistics must know the new rows, or candidate retrieval
 * picks nested loops (PGlite has no autovacuum to do it; a server's may come too late).
 */
const ANALYZE_AFTER_ROWS = 1000;

async function refreshPlannerStatistics(db: ServiceContext['db']): Promise<void> {
  await db.exec('ANALYZE customer_records');
}

/**
 * A body of unknown size (streamed) or at least `minBytes` is mapped in a worker thread, beside the
 * database's work; a small one here, where starting a worker would cost more than it saves.
 */
function worthAWorker(input: UploadInput, minBytes: number): boolean {
  return input.contentLength === undefined || input.contentLength >= minBytes;
}

async function chooseMapping(
  ctx: ServiceContext,
  partnerId: string,
  contentType: string | undefined,
  requested: string | undefined,
  datasetDefault: string | null,
): Promise<{ mapping: Mapping; canonical: boolean }> {
  const mediaType = contentType?.split(';')[0]?.trim().toLowerCase() ?? '';
  const format = formatsByContentType[mediaType];
  if (!format) {
    throw new AppError('unsupported_media_type', `Send the body as text/csv, application/x-ndjson or application/json, not "${mediaType || 'nothing'}".`);
  }
  const name = requested ?? datasetDefault ?? undefined;
  if (!name) {
    if (format === 'ndjson') return { mapping: canonicalMapping('ndjson'), canonical: true };
    throw new AppError('validation_failed', `A ${format} upload needs a mapping: name one with ?mapping=, or set the dataset's defaultMapping.`, {
      errors: [{ path: '/mapping', message: 'required for this content type', in: 'query' }],
    });
  }
  if (name === 'canonical') {
    if (format === 'csv') throw new AppError('unsupported_media_type', 'Canonical records come as application/x-ndjson or application/json, not CSV.');
    return { mapping: canonicalMapping(format), canonical: true };
  }
  const mapping = await findMapping(ctx.db, partnerId, name);
  if (!mapping) {
    throw new AppError('validation_failed', `There is no mapping "${name}": name a shipped one or one of yours (GET /v1/mappings).`, { errors: [{ path: '/mapping', message: 'not a shipped mapping nor one of yours', in: 'query' }] });
  }
  if (mapping.source.format !== format) {
    throw new AppError('unsupported_media_type', `The mapping ${mapping.name} reads ${mapping.source.format}, but the body was sent as ${mediaType}.`);
  }
  return { mapping, canonical: false };
}

export async function uploadDataset({
  ctx,
  datasetId,
  input,
}: {
  ctx: ServiceContext;
  datasetId: string;
  input: UploadInput;
}): Promise<{ upload: Upload; replayed: boolean }> {
  // An upload holds a connection while its body streams in: not one of the requests'.
  ctx = { ...ctx, db: forLongWork(ctx.db) };
  // Before anything awaits: a body can fail (client gone, over the limit) before the reader starts.
  // The counter then holds the error (stream.errored) and the reader picks it up.
  const counter = byteCounter(ctx.config.UPLOAD_LIMIT_BYTES, `${JSON.stringify([input.contentType ?? '', input.mapping ?? null, input.strict ?? false])}\n`);
  counter.on('error', () => {});
  input.body.on('error', (error) => counter.destroy(error));
  const partnerId = requirePartner(ctx);
  const dataset = await findOwnDataset(ctx.db, partnerId, datasetId);
  if (!input.idempotencyKey) return loadUpload(ctx, { partnerId, datasetId, dataset, input, counter });
  // One request per key at a time: a second one while the first runs is told so at once, rather
  // than mapping its body again and waiting for the dataset's lock.
  const inFlight = `${partnerId}/${datasetId}/${input.idempotencyKey}`;
  if (ctx.uploadsInFlight?.has(inFlight)) {
    input.body.resume();
    throw new AppError('conflict', 'An upload with this Idempotency-Key is still running; retry once it has finished.', { reason: 'idempotency_key_in_use' });
  }
  ctx.uploadsInFlight?.add(inFlight);
  try {
    const earlier = await selectUploadByIdempotencyKey(ctx.db, partnerId, datasetId, input.idempotencyKey);
    if (earlier && Date.now() - earlier.upload.createdAt.getTime() > ctx.config.IDEMPOTENCY_KEY_TTL_SECONDS * 1000) {
      await releaseIdempotencyKey(ctx.db, partnerId, datasetId, earlier.upload.id);
    } else if (earlier) {
      const { upload, requestSha256 } = earlier;
      if (requestSha256 !== null && (await fingerprintOf(counter, input.body, ctx.config.UPLOAD_LIMIT_BYTES)) !== requestSha256) {
        throw new AppError('unprocessable', 'This Idempotency-Key was used for a different request (another body, content type, mapping or strictness); use a new key.', {
          reason: 'idempotency_key_reused',
        });
      }
      return { upload, replayed: true };
    }
    return await loadUpload(ctx, { partnerId, datasetId, dataset, input, counter });
  } finally {
    ctx.uploadsInFlight?.delete(inFlight);
  }
}

interface UploadJob {
  ctx: ServiceContext;
  scope: { partnerId: string; datasetId: string; uploadId: string };
  mapping: Mapping;
  canonical: boolean;
  input: UploadInput;
  counter: ReturnType<typeof byteCounter>;
  /** The mapping report, once the body is read: a failure's answer names it. */
  report?: MappingReport;
}

type Counts = { inserted: number; updated: number; unchanged: number };

async function loadUpload(
  ctx: ServiceContext,
  { partnerId, datasetId, dataset, input, counter }: { partnerId: string; datasetId: string; dataset: { defaultMapping: string | null }; input: UploadInput; counter: ReturnType<typeof byteCounter> },
): Promise<{ upload: Upload; replayed: boolean }> {
  const { mapping, canonical } = await chooseMapping(ctx, partnerId, input.contentType, input.mapping, dataset.defaultMapping);
  const job: UploadJob = { ctx, scope: { partnerId, datasetId, uploadId: randomUUID() }, mapping, canonical, input, counter };
  try {
    // The server has connections to spare: the whole upload is one transaction. The embedded
    // engine has one, so the upload gives it up between batches.
    const upload = await oneUploadAtATime(ctx.db, datasetId, async () => {
      if (ctx.db.engine !== 'pglite') return loadInOneTransaction(job);
      return (await datasetHasVersions(ctx.db, job.scope)) ? stageInSlices(job) : loadInSlices(job);
    });
    if (upload.inserted + upload.updated >= ANALYZE_AFTER_ROWS) await refreshPlannerStatistics(ctx.db);
    return { upload, replayed: false };
  } catch (error) {
    // The same Idempotency-Key sent twice at once: the second transaction loses on the unique index
    // and rolls back whole; answer with the upload that won.
    if (input.idempotencyKey && (error as { code?: string }).code === '23505') {
      const winner = await selectUploadByIdempotencyKey(ctx.db, partnerId, datasetId, input.idempotencyKey);
      if (winner) return { upload: winner.upload, replayed: true };
    }
    return handleFailure(ctx, { error, partnerId, datasetId, uploadId: job.scope.uploadId, mapping, input, bytes: counter.bytes, report: job.report });
  }
}

/** Reads the body through the mapping, handing over batches of prepared records as they come. */
function mapBody(
  job: UploadJob,
  { batchRows, onBatch, onDuplicate }: { batchRows: number; onBatch: (batch: PreparedRecord[]) => Promise<void>; onDuplicate: (record: CustomerRecord) => void },
) {
  const { ctx, input, mapping, canonical } = job;
  // The body starts flowing only now, once the reader is there to hear of its errors.
  const body = input.body.pipe(job.counter);
  const { inWorker, report } = mapUpload(
    {
      input: body,
      mapping,
      canonical: canonical ? (mapping.source.format === 'json' ? 'json' : 'ndjson') : undefined,
      strict: input.strict ?? false,
      maxRowBytes: ctx.config.UPLOAD_MAX_ROW_BYTES,
      batchRows,
      onBatch,
      onDuplicate,
    },
    { preferWorker: worthAWorker(input, ctx.config.UPLOAD_WORKER_MIN_BYTES), maxWorkers: ctx.config.UPLOAD_WORKERS },
  );
  return { inWorker, report };
}

/**
 * The whole upload in one transaction: a first load streams its records straight into the table,
 * the server storing one batch while the next is mapped. Later uploads stage each batch and publish
 * it as versions, still all or nothing: COPY streams from this process, so it runs before mapping
 * resumes; publishing is the database's work alone and overlaps the mapping of the next batch.
 */
async function loadInOneTransaction(job: UploadJob): Promise<Upload> {
  const { ctx, scope } = job;
  return ctx.db.transaction(async (tx) => {
    await lockDatasetForUpload(tx, scope.datasetId);
    await createStaging(tx);
    const firstLoad = !(await datasetHasVersions(tx, scope));
    const counts: Counts = { inserted: 0, updated: 0, unchanged: 0 };
    const direct = firstLoad ? await openFirstLoad(tx, scope) : undefined;
    const erased = firstLoad ? undefined : await erasedSourceIds(ctx, tx, scope);
    let publishing: Promise<void> = Promise.resolve();
    const repeats = new Map<string, CustomerRecord[]>();
    const { inWorker, report: mapped } = mapBody(job, {
      batchRows: direct ? DIRECT_BATCH_ROWS : COPY_BATCH_ROWS,
      onBatch: async (batch) => {
        const staged = erased ? erased.keep(batch) : batch;
        if (direct) {
          await direct.write(staged);
          return;
        }
        await publishing;
        await copyToStaging(tx, staged.map(stagingLine));
        publishing = (async () => {
          addCounts(counts, await publishStaged(tx, scope));
          await clearStaging(tx);
        })();
      },
      onDuplicate: (record) => {
        if (!erased?.holds(record.source.recordId)) addRepeat(repeats, record);
      },
    });
    logStart(job, { inWorker, firstLoad, sliced: false });
    try {
      job.report = await mapped;
      if (direct) counts.inserted += await direct.end();
    } catch (error) {
      // The open COPY fails, so the connection is free for the rollback; a batch still in flight
      // finishes (or fails) first.
      direct?.abort();
      await publishing.catch(() => {});
      throw error;
    }
    await publishing;
    if (erased) erased.report(job.report, columnsOf(job.mapping.source.recordId).join('|'));
    return completeUpload(tx, job, job.report, counts, repeats);
  });
}

/**
 * A first load on the embedded engine: each batch commits on its own into the dataset marked
 * loading (store/loading.ts), so other requests are answered between batches; the last
 * transaction makes the records visible with the upload's row and audit event. A failure removes
 * what the slices wrote.
 */
async function loadInSlices(job: UploadJob): Promise<Upload> {
  const { ctx, scope } = job;
  const since = await beginLoading(ctx.db, scope);
  try {
    const counts: Counts = { inserted: 0, updated: 0, unchanged: 0 };
    const repeats = new Map<string, CustomerRecord[]>();
    const { inWorker, report: mapped } = mapBody(job, {
      batchRows: DIRECT_BATCH_ROWS,
      onBatch: async (batch) => {
        await ctx.db.transaction(async (tx) => {
          const slice = await openFirstLoad(tx, scope, since);
          await slice.write(batch);
          counts.inserted += await slice.end();
        });
      },
      onDuplicate: (record) => addRepeat(repeats, record),
    });
    logStart(job, { inWorker, firstLoad: true, sliced: true });
    job.report = await mapped;
    const report = job.report;
    return await ctx.db.transaction(async (tx) => {
      if (repeats.size) await createStaging(tx);
      const upload = await completeUpload(tx, job, report, counts, repeats, since);
      await finishLoading(tx, scope);
      return upload;
    });
  } catch (error) {
    await discardLoading(ctx.db, scope);
    throw error;
  }
}

/**
 * A later upload on the embedded engine: its batches are staged in transactions of their own while
 * the body arrives and is mapped; publishing them as versions, all or nothing, is the one
 * transaction that holds the connection. A failure removes the staged slices.
 */
async function stageInSlices(job: UploadJob): Promise<Upload> {
  const { ctx, scope } = job;
  try {
    const erased = await erasedSourceIds(ctx, ctx.db, scope);
    const repeats = new Map<string, CustomerRecord[]>();
    const { inWorker, report: mapped } = mapBody(job, {
      batchRows: COPY_BATCH_ROWS,
      onBatch: async (batch) => {
        const staged = erased ? erased.keep(batch) : batch;
        await ctx.db.transaction((tx) => stageSlice(tx, scope, staged.map(stagingLine)));
      },
      onDuplicate: (record) => {
        if (!erased?.holds(record.source.recordId)) addRepeat(repeats, record);
      },
    });
    logStart(job, { inWorker, firstLoad: false, sliced: true });
    job.report = await mapped;
    const report = job.report;
    if (erased) erased.report(report, columnsOf(job.mapping.source.recordId).join('|'));
    return await ctx.db.transaction(async (tx) => {
      await lockDatasetForUpload(tx, scope.datasetId);
      await createStaging(tx);
      await unstageSlices(tx, scope);
      const counts = await publishStaged(tx, scope);
      await clearStaging(tx);
      return completeUpload(tx, job, report, counts, repeats);
    });
  } catch (error) {
    await discardSlices(ctx.db, scope);
    throw error;
  }
}

function addCounts(counts: Counts, more: Counts): void {
  for (const key of ['inserted', 'updated', 'unchanged'] as const) counts[key] += more[key];
}

function addRepeat(repeats: Map<string, CustomerRecord[]>, record: CustomerRecord): void {
  repeats.set(record.source.recordId, [...(repeats.get(record.source.recordId) ?? []), record]);
}

function logStart(job: UploadJob, how: { inWorker: boolean; firstLoad: boolean; sliced: boolean }): void {
  const { uploadId, datasetId } = job.scope;
  job.ctx.logger.info({ uploadId, datasetId, mapping: job.mapping.name, declaredBytes: job.input.contentLength ?? null, ...how }, 'upload started');
}

/**
 * The end of every upload, in its last transaction: the rejected-rows limit, the rows that repeated
 * a source id, the upload's row and its audit event.
 */
async function completeUpload(
  tx: Queryable,
  job: UploadJob,
  report: MappingReport,
  counts: Counts,
  repeats: Map<string, CustomerRecord[]>,
  createdAt?: string,
): Promise<Upload> {
  const { ctx, scope, mapping, input, counter } = job;
  // Rows refused because their record was erased are the exchange keeping its word, not bad data.
  const badRows = report.rejected - (report.erased ?? 0);
  if (report.rows > 0 && badRows / report.rows > ctx.config.UPLOAD_MAX_REJECTED_RATIO) throw new TooManyRejected();
  // Rows that repeated a source id merge into the record its first row became, by the
  // documented rule (mappings/README.md): in place where this upload wrote that version, else
  // as a new version of a record the first row had left unchanged.
  if (repeats.size) {
    const lines = (await selectCurrentRecords(tx, scope, [...repeats.keys()])).map(({ sourceId, record }) => {
      const merged = repeats.get(sourceId)!.reduce(mergeRecords, record);
      return stagingLine(prepareRecord(0, merged));
    });
    await copyToStaging(tx, lines);
    const rest = lines.length - (await rewriteOwnVersions(tx, scope));
    // Those were counted unchanged in their batch; count them again as they come out now.
    counts.unchanged -= rest;
    addCounts(counts, await publishStaged(tx, scope));
  }
  const saved = await insertUpload(tx, {
    id: scope.uploadId,
    partnerId: scope.partnerId,
    datasetId: scope.datasetId,
    status: 'completed',
    reason: null,
    mapping: mapping.name,
    contentType: input.contentType ?? '',
    bytes: counter.bytes,
    accepted: report.accepted,
    rejected: report.rejected,
    ...counts,
    idempotencyKey: input.idempotencyKey ?? null,
    requestSha256: input.idempotencyKey ? counter.fingerprint() : null,
    report: report as unknown as Record<string, unknown>,
    createdAt,
  });
  await recordEvent(tx, ctx, {
    action: 'upload.complete',
    targetType: 'upload',
    targetId: scope.uploadId,
    details: { datasetId: scope.datasetId, mapping: mapping.name, bytes: counter.bytes, rows: report.rows, rejected: report.rejected, ...counts },
  });
  return saved;
}

/** Turns a failed upload into a clear answer; nothing of its data was stored (the transaction rolled back). */
async function handleFailure(
  ctx: ServiceContext,
  failure: { error: unknown; partnerId: string; datasetId: string; uploadId: string; mapping: Mapping; input: UploadInput; bytes: number; report: MappingReport | undefined },
): Promise<never> {
  const { error, partnerId, datasetId, uploadId, mapping, input, report } = failure;
  let problem: AppError;
  let reason: string;
  if (error instanceof UploadTooLarge) {
    reason = `the body is larger than the upload limit of ${ctx.config.UPLOAD_LIMIT_BYTES} bytes`;
    problem = new AppError('payload_too_large', `The upload is larger than the limit of ${ctx.config.UPLOAD_LIMIT_BYTES} bytes; nothing was stored. Split the file.`);
  } else if (error instanceof StrictModeError) {
    reason = `strict mode: ${error.message}`;
    problem = new AppError('unprocessable', `Strict upload stopped at the first error, nothing was stored: ${error.message}. Report: upload ${uploadId}.`);
  } else if (error instanceof TooManyRejected && report) {
    reason = `${report.rejected} of ${report.rows} rows rejected, more than the limit of ${ctx.config.UPLOAD_MAX_REJECTED_RATIO * 100}%`;
    problem = new AppError('unprocessable', `${reason}; nothing was stored. See the report: GET /v1/datasets/${datasetId}/uploads/${uploadId}.`);
  } else if (error instanceof InputError || error instanceof MappingError) {
    reason = error.message;
    problem = new AppError('bad_request', `The upload cannot be read, nothing was stored: ${error.message}`);
  } else if (error instanceof Error && /aborted|premature close|ECONNRESET/i.test(error.message)) {
    reason = 'the body ended before it was complete';
    problem = new AppError('bad_request', 'The upload body ended before it was complete (truncated); nothing was stored. Send it again.');
  } else {
    throw error;
  }
  await ctx.db.transaction(async (tx) => {
    await insertUpload(tx, {
      id: uploadId,
      partnerId,
      datasetId,
      status: 'rejected',
      // A reason may quote the input (a header name): it must be storable whatever that held.
      reason: storableText(reason),
      mapping: mapping.name,
      contentType: input.contentType ?? '',
      bytes: failure.bytes,
      accepted: report?.accepted ?? 0,
      rejected: report?.rejected ?? 0,
      inserted: 0,
      updated: 0,
      unchanged: 0,
      idempotencyKey: null,
      report: (report ?? {}) as Record<string, unknown>,
    });
    await recordEvent(tx, ctx, { action: 'upload.reject', targetType: 'upload', targetId: uploadId, outcome: 'failure', details: { datasetId, reason: problem.code } });
  });
  throw problem;
}
