/**
 * npm run bench:responsiveness [-- rows]: how the service answers other requests while a large
 * upload runs (default 200,000 canonical records, through HTTP): latency of GET /readyz and of a
 * partner's GET /v1/datasets/{id}/records/{sourceId}, sampled every 250 ms, on PGlite and on the server.
 */
import { Readable } from 'node:stream';
import type { Database } from '../src/store/database.js';
import { onBothEngines } from './engines.js';
import { benchService } from './service.js';

const rows = Number(process.argv[2] ?? 200_000);

function canonicalExport(count: number, prefix: string, changed = false): Readable {
  let i = 0;
  return new Readable({
    read() {
      let chunk = '';
      for (let n = 0; n < 1000 && i < count; n += 1, i += 1) {
        chunk += `${JSON.stringify({ standardVersion: '1.0.0', source: { recordId: `${prefix}${i}` }, name: { given: `Given${i % 5000}`, family: `${changed ? 'Changed' : 'Family'}${i % 20000}` }, birthDate: '1980-01-02', emails: [{ address: `p${i}@example.com` }] })}\n`;
      }
      this.push(chunk || null);
    },
  });
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : NaN;
};

async function run(engine: 'pglite' | 'postgres', db: Database): Promise<void> {
  const { server, headers } = await benchService(db, { READY_TIMEOUT_MS: '60000', RATE_LIMIT_PER_KEY: '1000000' });
  const dataset = async (name: string) =>
    ((await (await fetch(`${server.url}/v1/datasets`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ name }) })).json()) as { id: string }).id;
  const upload = (id: string, count: number, prefix: string, changed = false) =>
    fetch(`${server.url}/v1/datasets/${id}/uploads?mapping=canonical`, {
      method: 'POST', headers: { ...headers, 'content-type': 'application/x-ndjson' },
      body: Readable.toWeb(canonicalExport(count, prefix, changed)) as unknown as ReadableStream, duplex: 'half', redirect: 'error',
    } as RequestInit);
  const small = await dataset('small');
  await (await upload(small, 1000, 's')).json();
  const cases = [
    { label: 'first load', before: false, changed: false },
    { label: 'second upload (all unchanged)', before: true, changed: false },
    { label: 'second upload (every record changed)', before: true, changed: true },
  ];
  for (const [n, { label, before, changed }] of cases.entries()) {
    const big = await dataset(`big-${n}`);
    if (before) await (await upload(big, rows, 'a')).json();
    const latencies = { ready: [] as number[], record: [] as number[] };
    let uploading = true;
    let resets = 0;
    const sample = async (what: keyof typeof latencies, url: string) => {
      while (uploading) {
        const started = performance.now();
        // A kept-alive socket the server closed while its event loop was busy resets: the client
        // asks again, and the wait counts from the first try.
        for (let attempt = 1; ; attempt += 1) {
          try {
            await (await fetch(url, { headers })).arrayBuffer();
            break;
          } catch (error) {
            if (attempt >= 3) throw error;
            resets += 1;
          }
        }
        latencies[what].push(performance.now() - started);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    };
    const started = performance.now();
    const samplers = [sample('ready', `${server.url}/readyz`), sample('record', `${server.url}/v1/datasets/${small}/records/s7`)];
    const response = await upload(big, rows, 'a', changed);
    await response.json();
    const seconds = (performance.now() - started) / 1000;
    uploading = false;
    await Promise.all(samplers);
    const line = (what: keyof typeof latencies) => `${what} p50 ${percentile(latencies[what], 50).toFixed(0)} ms, p95 ${percentile(latencies[what], 95).toFixed(0)} ms, max ${Math.max(...latencies[what]).toFixed(0)} ms (${latencies[what].length} samples)`;
    console.log(`bench:responsiveness ${engine.padEnd(8)} ${label} of ${rows.toLocaleString('en')} records in ${seconds.toFixed(1)} s (${response.status}): ${line('ready')}; ${line('record')}${resets ? `; ${resets} connection resets retried` : ''}`);
  }
  await server.shutdown('bench done');
}

await onBothEngines(run);
