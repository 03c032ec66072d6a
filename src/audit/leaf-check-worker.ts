/** LeafCheck in a worker thread: pages arrive in log order; `end` answers with what it found. */
import { parentPort, workerData } from 'node:worker_threads';
import { dataOfWorker } from '../core/worker-thread.js';
import { LeafCheck, type LeafPage } from './leaf-check.js';

const { checkpoints, tileWidth } = dataOfWorker<{ checkpoints: [string, string][]; tileWidth: number }>(workerData);
const check = new LeafCheck(checkpoints, tileWidth);
parentPort!.on('message', (message: { page: LeafPage } | { end: true }) => {
  if ('page' in message) return check.add(message.page);
  parentPort!.postMessage({ problems: check.problems, size: String(check.size) });
  parentPort!.close();
});
