/** The worker side of mapUploadInWorker (map-upload.ts): reads the body it is sent, maps it, sends batches back. */
import { Readable } from 'node:stream';
import { parentPort, workerData } from 'node:worker_threads';
import { dataOfWorker } from '../core/worker-thread.js';
import { mapUploadHere, sendableError, type FromWorker, type ToWorker, type WorkerSettings } from './map-upload.js';

const port = parentPort!;
const settings = dataOfWorker<WorkerSettings>(workerData);
const send = (message: FromWorker) => port.postMessage(message);

// The body, as the main thread sends it; each chunk is acknowledged once read, so that no more than
// a few wait here.
const chunks: Uint8Array[] = [];
let ended = false;
let wanted = false;
const input = new Readable({
  read() {
    wanted = true;
    feed();
  },
});
function feed(): void {
  while (wanted && chunks.length) {
    const chunk = chunks.shift()!;
    send({ type: 'consumed' });
    wanted = input.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  }
  if (wanted && ended && !chunks.length) {
    wanted = false;
    input.push(null);
  }
}

// Batches handed over and not yet taken; mapping waits rather than pile them up.
let batchesInFlight = 0;
let taken: (() => void) | undefined;

port.on('message', (message: ToWorker) => {
  switch (message.type) {
    case 'chunk':
      chunks.push(message.chunk);
      feed();
      break;
    case 'end':
      ended = true;
      feed();
      break;
    case 'batchTaken':
      batchesInFlight -= 1;
      taken?.();
      break;
  }
});

try {
  const report = await mapUploadHere({
    ...settings,
    input,
    onBatch: async (batch) => {
      send({ type: 'batch', batch });
      batchesInFlight += 1;
      while (batchesInFlight >= 2) await new Promise<void>((resolve) => (taken = resolve));
    },
    onDuplicate: (record, row) => send({ type: 'duplicate', record, row }),
  });
  send({ type: 'done', report });
} catch (error) {
  send({ type: 'failed', error: sendableError(error) });
}
