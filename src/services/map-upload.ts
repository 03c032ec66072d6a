/**
 * Maps an upload's body into records prepared for COPY, in batches: in this thread, or for a large
 * body in a worker thread, so that mapping runs beside the database's work (PGlite's, which shares
 * this thread, or the server's COPY) instead of taking turns with it.
 */
import type { Readable } from 'node:stream';
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../core/worker-thread.js';
import { compileCanonical } from '../mapping/compile.js';
import { MappingError, type Mapping } from '../mapping/load.js';
import { InputError } from '../mapping/readers.js';
import { mapInput, StrictModeError, type MappingReport } from '../mapping/run.js';
import type { CustomerRecord } from '../standard/customer.js';
import { prepareRecord, type PreparedRecord } from '../store/records.js';

export interface MapUploadOptions {
  input: Readable;
  mapping: Mapping;
  /** Canonical records (no mapping), and how they come. */
  canonical?: 'ndjson' | 'json';
  strict: boolean;
  maxRowBytes: number;
  batchRows: number;
  /** Each batch of new records; the next is mapped meanwhile, but not handed over before this resolves. */
  onBatch: (batch: PreparedRecord[]) => Promise<void>;
  /** A later row repeating a source id, to merge into the record of its first row. */
  onDuplicate: (record: CustomerRecord, row: number) => void;
}

export async function mapUploadHere(options: MapUploadOptions): Promise<MappingReport> {
  let batch: PreparedRecord[] = [];
  const report = await mapInput({
    input: options.input,
    mapping: options.mapping,
    compiled: options.canonical ? compileCanonical(options.canonical) : undefined,
    strict: options.strict,
    maxRowBytes: options.maxRowBytes,
    onRecord: async (record, row) => {
      batch.push(prepareRecord(row, record));
      if (batch.length >= options.batchRows) {
        const full = batch;
        batch = [];
        await options.onBatch(full);
      }
    },
    onDuplicate: options.onDuplicate,
  });
  if (batch.length) await options.onBatch(batch);
  return report;
}

/** Messages from the worker (map-upload-worker.ts). */
export type FromWorker =
  | { type: 'consumed' }
  | { type: 'batch'; batch: PreparedRecord[] }
  | { type: 'duplicate'; record: CustomerRecord; row: number }
  | { type: 'done'; report: MappingReport }
  | { type: 'failed'; error: SentError };

/** Messages to the worker. */
export type ToWorker = { type: 'chunk'; chunk: Uint8Array } | { type: 'end' } | { type: 'batchTaken' };

export type WorkerSettings = Pick<MapUploadOptions, 'mapping' | 'canonical' | 'strict' | 'maxRowBytes' | 'batchRows'>;

/** An error as it crosses to this thread: the kinds an upload answers differently keep their kind. */
export interface SentError {
  name: string;
  message: string;
  issue?: StrictModeError['issue'];
  problems?: MappingError['problems'];
}

export function sendableError(error: unknown): SentError {
  if (error instanceof StrictModeError) return { name: error.name, message: error.message, issue: error.issue };
  if (error instanceof MappingError) return { name: error.name, message: error.message, problems: error.problems };
  return { name: error instanceof Error ? error.name : 'Error', message: error instanceof Error ? error.message : String(error) };
}

function revive(sent: SentError): Error {
  if (sent.name === 'StrictModeError' && sent.issue) return new StrictModeError(sent.issue);
  const error = sent.name === 'MappingError' ? Object.assign(new MappingError(''), { problems: sent.problems ?? [] }) : sent.name === 'InputError' ? new InputError('') : new Error('');
  error.message = sent.message;
  return error;
}

let mappingWorkers = 0;

/**
 * Maps in a worker thread when asked to and fewer than `maxWorkers` are busy (an upload that finds
 * none free maps here); says which.
 */
export function mapUpload(options: MapUploadOptions, { preferWorker, maxWorkers }: { preferWorker: boolean; maxWorkers: number }): { inWorker: boolean; report: Promise<MappingReport> } {
  if (!preferWorker || mappingWorkers >= maxWorkers) return { inWorker: false, report: mapUploadHere(options) };
  mappingWorkers += 1;
  const report = mapUploadInWorker(options);
  void report.then(
    () => (mappingWorkers -= 1),
    () => (mappingWorkers -= 1),
  );
  return { inWorker: true, report };
}

/** Body chunks sent to the worker and not yet read by it: enough to keep it busy, little to hold. */
const CHUNKS_IN_FLIGHT = 8;

function mapUploadInWorker(options: MapUploadOptions): Promise<MappingReport> {
  const { input, onBatch, onDuplicate, ...settings } = options;
  const worker = startWorker(import.meta.url, 'map-upload-worker', settings);
  return new Promise<MappingReport>((resolve, reject) => {
    let settled = false;
    let sent = 0;
    let consumed = 0;
    let wake: (() => void) | undefined;
    let batches = Promise.resolve();
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      wake?.();
      void worker.terminate();
      outcome();
    };
    const fail = (error: unknown) => settle(() => reject(error));
    const post = (message: ToWorker, transfer?: ArrayBuffer[]) => worker.postMessage(message, transfer);

    worker.on('message', (message: FromWorker) => {
      // Once settled (failed, say), messages still queued are dropped: nothing more reaches the database.
      if (settled) return;
      switch (message.type) {
        case 'consumed':
          consumed += 1;
          wake?.();
          break;
        case 'batch':
          batches = batches.then(async () => {
            if (settled) return;
            await onBatch(message.batch);
            if (!settled) post({ type: 'batchTaken' });
          });
          batches.catch(fail);
          break;
        case 'duplicate':
          onDuplicate(message.record, message.row);
          break;
        case 'done':
          batches.then(() => settle(() => resolve(message.report)), fail);
          break;
        case 'failed':
          fail(revive(message.error));
          break;
      }
    });
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the mapping worker stopped with exit code ${code}`)));

    (async () => {
      for await (const chunk of input as AsyncIterable<Buffer | string>) {
        while (sent - consumed >= CHUNKS_IN_FLIGHT && !settled) await new Promise<void>((woken) => (wake = woken));
        if (settled) return;
        // A copy of its own: a chunk may share its memory with others (Buffer's pool), and moves over whole.
        const bytes = typeof chunk === 'string' ? new Uint8Array(Buffer.from(chunk)) : new Uint8Array(chunk);
        post({ type: 'chunk', chunk: bytes }, [bytes.buffer as ArrayBuffer]);
        sent += 1;
      }
      if (!settled) post({ type: 'end' });
    })().catch(fail);
  });
}
