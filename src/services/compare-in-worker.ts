/**
 * A second thread for batch linkage's comparing, the longest part of a large run (100k × 100k:
 * 2.5M pairs, about 15 s on one core): the worker is sent the records as soon as they are read, and
 * prepares its own copy while the database still blocks; it then compares half of the pairs while
 * this thread compares the rest (linkCandidates' `helper`).
 */
import { startWorker } from '../core/worker-thread.js';
import type { PairHelper } from '../match/link.js';
import type { PairList } from '../match/pairs.js';
import type { MatchModel } from '../match/model.js';
import type { CustomerRecord } from '../standard/customer.js';

type Records = { sourceId: string; record: CustomerRecord }[];

export type ToCompareWorker =
  | { type: 'records'; side: 'left' | 'right'; records: string }
  | { type: 'pairs'; pairs: PairList };

export type FromCompareWorker = { type: 'vectors'; vectors: Uint8Array } | { type: 'failed'; message: string };

/**
 * Records a message: the worker prepares each slice as it comes and lets its text go, so that it
 * holds the prepared records, not the read ones too (100k × 100k: the run's peak memory 1.39 GB
 * with the whole sides sent at once).
 */
const RECORDS_A_MESSAGE = 10_000;

/** A helper comparing pairs in a worker thread; closed (the thread ended) however the linkage ends. */
export function compareInWorker(model: MatchModel, left: Records, right: Records | null, fromPairs: number): PairHelper & { close(): Promise<void> } {
  const worker = startWorker(import.meta.url, 'compare-worker', model);
  // As JSON text: a string crosses to the thread far faster than the objects cloned. Without a
  // right-hand side (deduplication) the worker compares the left with itself.
  for (const [side, records] of [['left', left], ['right', right ?? []]] as const) {
    for (let from = 0; from < records.length; from += RECORDS_A_MESSAGE) {
      worker.postMessage({ type: 'records', side, records: JSON.stringify(records.slice(from, from + RECORDS_A_MESSAGE)) } satisfies ToCompareWorker);
    }
  }
  let failure: Error | undefined;
  const failed = new Promise<never>((_, reject) => {
    worker.once('error', (error) => reject((failure = error)));
    worker.once('exit', (code) => reject((failure ??= new Error(`the comparing worker stopped (exit ${code})`))));
  });
  failed.catch(() => {});
  return {
    fromPairs,
    compare(pairs) {
      if (failure) return Promise.reject(failure);
      if (!pairs.left.length) return Promise.resolve(new Uint8Array(0));
      const answer = new Promise<Uint8Array>((resolve, reject) => {
        worker.once('message', (message: FromCompareWorker) => (message.type === 'vectors' ? resolve(message.vectors) : reject(new Error(message.message))));
      });
      // The positions move to the thread (the caller sliced them for it); the id lists are copied.
      worker.postMessage({ type: 'pairs', pairs } satisfies ToCompareWorker, [pairs.left.buffer, pairs.right.buffer]);
      return Promise.race([answer, failed]);
    },
    close: async () => void (await worker.terminate()),
  };
}
