/** The worker side of compareInWorker (compare-in-worker.ts): prepares the records it is sent once, then compares each batch of pairs. */
import { parentPort, workerData } from 'node:worker_threads';
import { dataOfWorker } from '../core/worker-thread.js';
import type { Comparable } from '../match/features.js';
import { comparePairsInto, pairsWithRecords, prepareAll, recordsByPosition } from '../match/link.js';
import { comparatorFor, type MatchModel } from '../match/model.js';
import type { FromCompareWorker, ToCompareWorker } from './compare-in-worker.js';

const port = parentPort!;
const comparator = comparatorFor(dataOfWorker<MatchModel>(workerData));
const width = comparator.comparisons.length;
const left = new Map<string, Comparable>();
const right = new Map<string, Comparable>();

port.on('message', (message: ToCompareWorker) => {
  try {
    if (message.type === 'records') {
      for (const [sourceId, comparable] of prepareAll(JSON.parse(message.records))) (message.side === 'left' ? left : right).set(sourceId, comparable);
      return;
    }
    // Deduplication sends one side: the left is compared with itself.
    const { pairs } = message;
    const leftRecords = recordsByPosition(pairs.leftIds, left);
    const rightRecords = recordsByPosition(pairs.rightIds, right.size ? right : left);
    // The main thread sends only pairs whose records it has; they are the same records.
    if (pairsWithRecords(pairs, leftRecords, rightRecords) !== pairs) throw new Error('a pair whose record the worker was not sent');
    const vectors = new Uint8Array(pairs.left.length * width);
    comparePairsInto(comparator, pairs, leftRecords, rightRecords, vectors);
    port.postMessage({ type: 'vectors', vectors } satisfies FromCompareWorker, [vectors.buffer]);
  } catch (error) {
    port.postMessage({ type: 'failed', message: error instanceof Error ? error.message : String(error) } satisfies FromCompareWorker);
  }
});
