/**
 * npm run bench:map [-- rows]: maps generated Salesforce rows and prints rows per second and peak memory.
 * The export is written to a temporary file first, so that the figure is mapping alone (reading the
 * file, parsing CSV, every rule, validation, duplicate detection), as `cx map` does it.
 */
import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { loadMapping } from '../src/mapping/load.js';
import { mapInput } from '../src/mapping/run.js';
import { salesforceExport } from './generate.js';

const rows = Number(process.argv[2] ?? 1_000_000);
const dir = mkdtempSync(join(tmpdir(), 'cx-bench-map-'));
const file = join(dir, 'salesforce.csv');
try {
  await pipeline(salesforceExport(rows), createWriteStream(file));
  const mapping = loadMapping('salesforce-contacts');
  let peakRss = 0;
  const sample = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
  const started = performance.now();
  let records = 0;
  const report = await mapInput({ input: createReadStream(file), mapping, onRecord: () => void (records += 1) });
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sample);
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  console.log(`bench:map salesforce-contacts: ${report.rows.toLocaleString('en')} rows, ${records.toLocaleString('en')} records, ${report.rejected} rejected`);
  console.log(`  ${seconds.toFixed(1)} s, ${Math.round(report.rows / seconds).toLocaleString('en')} rows/s, peak RSS ${Math.round(peakRss / 1024 / 1024)} MB (one core, node ${process.version})`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
