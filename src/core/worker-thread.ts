/**
 * Starting a worker thread on one of our modules. In a checkout the sources are TypeScript, run
 * through tsx (as bin/cx.js does), so the worker registers tsx before it imports its module; the
 * image runs the compiled dist/ directly.
 */
import { Worker } from 'node:worker_threads';

/**
 * A worker running the module `name` (without extension) beside `from` (the caller's
 * import.meta.url), with `workerData`. A failure to load it reaches the worker's 'error' event.
 */
export function startWorker(from: string, name: string, workerData: unknown): Worker {
  const fromSources = from.endsWith('.ts');
  const entry = new URL(`./${name}.${fromSources ? 'ts' : 'js'}`, from).href;
  const tsx = fromSources ? import.meta.resolve('tsx/esm/api') : null;
  const boot = `const { workerData } = require('node:worker_threads');
(async () => {
  if (workerData.tsx) (await import(workerData.tsx)).register();
  await import(workerData.entry);
})().catch((error) => { setImmediate(() => { throw error; }); });`;
  return new Worker(boot, { eval: true, workerData: { entry, tsx, data: workerData } });
}

/** The `workerData` startWorker was given, inside the worker. */
export const dataOfWorker = <T>(workerData: unknown): T => (workerData as { data: T }).data;
