/**
 * npm run bench:ingest [-- rows]: uploads generated records through the HTTP API on PGlite and on
 * the PostgreSQL server (BENCH_DATABASE_URL, default the local one), as a Salesforce CSV export (mapped)
 * and as canonical NDJSON (store only), and prints records per second and peak memory.
 */
import { Readable } from 'node:stream';
import type { Database } from '../src/store/database.js';
import { onBothEngines } from './engines.js';
import { benchService } from './service.js';
import { random, salesforceExport } from './generate.js';

const rows = Number(process.argv[2] ?? 1_000_000);
/** BENCH_FORMATS (comma-separated: mapped, canonical) narrows a run to some inputs; default both. */
const formats = new Set((process.env.BENCH_FORMATS ?? 'mapped,canonical').split(',').map((f) => f.trim()));

function canonicalExport(count: number): Readable {
  const rand = random(7);
  let i = 0;
  return new Readable({
    read() {
      let chunk = '';
      for (let n = 0; n < 1000 && i < count; n += 1, i += 1) {
        chunk += `${JSON.stringify({
          standardVersion: '1.0.0',
          source: { recordId: `c${i}` },
          name: { given: `Given${Math.floor(rand() * 5000)}`, family: `Family${Math.floor(rand() * 20000)}` },
          birthDate: `19${String(40 + Math.floor(rand() * 60))}-0${1 + Math.floor(rand() * 9)}-1${Math.floor(rand() * 9)}`,
          emails: [{ address: `person${i}@example.com` }],
          phones: [{ number: `+1415${String(2000000 + i).slice(-7)}` }],
          addresses: [{ postcode: String(10000 + Math.floor(rand() * 80000)), country: 'US' }],
        })}\n`;
      }
      this.push(chunk || null);
    },
  });
}

async function run(engine: 'pglite' | 'postgres', db: Database): Promise<void> {
  const { server, headers } = await benchService(db);
  for (const [label, type, body] of [
    ['salesforce csv (mapped)', 'text/csv', () => salesforceExport(rows)],
    ['canonical ndjson', 'application/x-ndjson', () => canonicalExport(rows)],
  ] as const) {
    if (!formats.has(type === 'text/csv' ? 'mapped' : 'canonical')) continue;
    const created = await fetch(`${server.url}/v1/datasets`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ name: label }) });
    const { id } = (await created.json()) as { id: string };
    const mapping = type === 'text/csv' ? 'salesforce-contacts' : 'canonical';
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 100);
    const started = performance.now();
    const response = await fetch(`${server.url}/v1/datasets/${id}/uploads?mapping=${mapping}`, {
      method: 'POST',
      headers: { ...headers, 'content-type': type },
      body: Readable.toWeb(body()) as unknown as ReadableStream,
      duplex: 'half',
      // Without it fetch keeps a copy of the body to send again on a redirect: here, with the server in
      // the same process, the whole upload stayed in memory (peak RSS at 1,000,000 records 605 → 354 MB).
      redirect: 'error',
    } as RequestInit);
    const result = (await response.json()) as { inserted?: number; detail?: string };
    const seconds = (performance.now() - started) / 1000;
    clearInterval(sampler);
    if (!response.ok) throw new Error(`${engine} ${label}: ${response.status} ${result.detail}`);
    console.log(
      `bench:ingest ${engine.padEnd(8)} ${label.padEnd(24)} ${rows.toLocaleString('en')} rows: ${seconds.toFixed(1)} s, ` +
        `${Math.round(result.inserted! / seconds).toLocaleString('en')} records/s, peak RSS ${Math.round(peak / 1024 ** 2)} MB`,
    );
  }
  await server.shutdown('bench done');
}

await onBothEngines(run);
