/** The worker side of compareInWorker (compare-in-worker.ts): prepares the records it is sent once, then compares each batch of pairs. */
import { parentPort, workerData } from 'node:worker_threads';
import { dataOfWorker } from '../core/worker-thread.js';
import type { Comparable } from '../match/features.js';
import { prepareAll } from '../match/link.js';
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
    const others = right.size ? right : left;
    const leftIds = message.leftIds.split('\n');
    const rightIds = message.rightIds.split('\n');
    const vectors = new Uint8Array(leftIds.length * width);
    for (let i = 0; i < leftIds.length; i += 1) {
      const a = left.get(leftIds[i]!);
      const b = others.get(rightIds[i]!);
      // The main thread sends only pairs whose records it has; they are the same records.
      if (!a || !b) throw new Error('a pair whose record the worker was not sent');
      comparator.compare(a, b, vectors.subarray(i * width, (i + 1) * width));
    }
    port.postMessage({ type: 'vectors', vectors } satisfies FromCompareWorker, [vectors.buffer]);
  } catch (error) {
    port.postMessage({ type: 'failed', message: error instanceof Error ? error.message : String(error) } satisfies FromCompareWorker);
  }
});
