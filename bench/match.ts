/**
 * npm run bench:match [-- sizes]: single-query latency (p50, p95) with 100,000 and 1,000,000 stored
 * records on PGlite and on the PostgreSQL server (BENCH_DATABASE_URL), batch linkage of 100,000
 * against 100,000 records, and the naive baseline (fuse.js over every record) in the same run.
 * Queries are stored records with a typo in the surname, through the HTTP app in process.
 *
 * Concurrent mode (BENCH_CONCURRENCY=50, BENCH_SECONDS=30): after each size's sequential queries,
 * the app listens on a loopback port and a second process (bench/match-load.ts, autocannon) sends
 * that many queries at once; matches per second and p50/p95/p99 over every answer are printed.
 * The audit log's integrator runs throughout, as in a serving exchange.
 * BENCH_PROFILE=<path prefix> writes a CPU profile of the exchange during the load. BENCH_LINKAGE=0 skips the batch linkage, BENCH_ENGINES=postgres the embedded engine; BENCH_KEEP=<name>
 * keeps the server's database for the next run, which loads only the records it lacks.
 */
import { spawn } from 'node:child_process';
import { Session } from 'node:inspector';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { serve } from '@hono/node-server';
import Fuse from 'fuse.js';
import { createApp } from '../src/api/app.js';
import { loadConfig } from '../src/config.js';
import { generateSigningKey, mintConsentToken } from '../src/consent/mint.js';
import { ensureExchangeSigningKey } from '../src/audit/exchange-key.js';
import { secretsFor } from '../src/core/secrets.js';
import { openAuditLog, startBackground } from '../src/exchange.js';
import { createLogger } from '../src/logger.js';
import { defaultModel } from '../src/match/model.js';
import { createApiKey } from '../src/services/create-api-key.js';
import { createDataset } from '../src/services/create-dataset.js';
import { createPartner } from '../src/services/create-partner.js';
import type { ServiceContext } from '../src/services/context.js';
import { linkDatasets } from '../src/services/link-datasets.js';
import { uploadDataset } from '../src/services/upload-dataset.js';
import { replacePartnerKeys } from '../src/store/consent.js';
import { selectPartner } from '../src/store/partners.js';
import type { Database } from '../src/store/database.js';
import { onBothEngines } from './engines.js';
import { random } from './generate.js';

const sizes = (process.argv[2] ?? '100000,1000000').split(',').map(Number);
const linkageSize = Number(process.env.BENCH_LINKAGE ?? 100_000);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 0);
const loadSeconds = Number(process.env.BENCH_SECONDS ?? 30);
const queries = 200;
const warmUp = 50;
const syllables = ['ka', 'lo', 'mi', 'ran', 'te', 'su', 'vo', 'ber', 'li', 'na', 'dor', 'fi', 'gan', 'ho', 'jo', 'ke', 'mar', 'ne', 'pa', 'ri', 'sto', 'ta', 'ul', 've', 'wil', 'xa', 'yo', 'zen', 'chi', 'sha'];
const cap = (s: string) => s[0]!.toUpperCase() + s.slice(1);

interface Person { id: string; given: string; family: string; birthDate: string; postcode: string; email: string }

function person(i: number, seed = 7): Person {
  const rand = random(i * 7919 + seed);
  const pick = () => syllables[Math.floor(rand() * syllables.length)]!;
  const family = cap(pick() + pick() + (rand() < 0.5 ? pick() : ''));
  const given = cap(pick() + pick());
  const year = 1940 + Math.floor(rand() * 65);
  const birthDate = `${year}-${String(1 + Math.floor(rand() * 12)).padStart(2, '0')}-${String(1 + Math.floor(rand() * 28)).padStart(2, '0')}`;
  return { id: `p${i}`, given, family, birthDate, postcode: String(10000 + Math.floor(rand() * 89999)), email: `${given}.${family}${i}@example.com`.toLowerCase() };
}

const canonical = (p: Person) =>
  JSON.stringify({ standardVersion: '1.0.0', source: { recordId: p.id }, name: { given: p.given, family: p.family }, birthDate: p.birthDate, emails: [{ address: p.email }], addresses: [{ postcode: p.postcode, country: 'US' }] });

function records(from: number, to: number, transform: (p: Person) => Person = (p) => p): Readable {
  let i = from;
  return new Readable({
    read() {
      let chunk = '';
      for (let n = 0; n < 2000 && i < to; n += 1, i += 1) chunk += `${canonical(transform(person(i)))}\n`;
      this.push(chunk || null);
    },
  });
}

/** A typo: two neighbouring letters of the surname swapped. */
const typo = (p: Person): Person => ({ ...p, family: p.family.length > 3 ? `${p.family.slice(0, 1)}${p.family.slice(2, 3)}${p.family.slice(1, 2)}${p.family.slice(3)}` : p.family, email: `x${p.email}` });

/** A match query's body for a person as written (with a typo). */
const matchBody = (query: Person) => JSON.stringify({ purpose: 'fraud_prevention', criteria: { given: query.given, family: query.family, birthDate: query.birthDate, postcode: query.postcode } });

/**
 * CPU seconds spent so far by the processes named `postgres` on this machine (the server's backends
 * and its background workers), from /proc; undefined where there is no /proc to read.
 */
function postgresCpuSeconds(): number | undefined {
  let ticks = 0;
  try {
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        // comm is in parentheses; utime and stime are the 12th and 13th fields after it.
        if (!stat.includes('(postgres)')) continue;
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        ticks += Number(fields[11]) + Number(fields[12]);
      } catch {
        // The process ended while being read.
      }
    }
  } catch {
    return undefined;
  }
  return ticks / 100; // USER_HZ is 100 on Linux
}

/** A CPU profile of the exchange's main thread (BENCH_PROFILE=<path prefix>), of the load only. */
async function startProfile(): Promise<{ stop: (path: string) => Promise<void> }> {
  const session = new Session();
  session.connect();
  const post = <T>(method: string) => new Promise<T>((resolve, reject) => session.post(method, (error, result) => (error ? reject(error) : resolve(result as T))));
  await post('Profiler.enable');
  await post('Profiler.start');
  return {
    stop: async (path) => {
      const { profile } = await post<{ profile: object }>('Profiler.stop');
      writeFileSync(path, JSON.stringify(profile));
      session.disconnect();
      console.log(`bench:match   profile of the exchange under load: ${path}`);
    },
  };
}

interface LoadResult { ok: number; perSecond: number; p50: number; p95: number; p99: number; statuses: Record<string, number>; cpu: { exchange: number; database?: number; load: number } }

/**
 * The app on a loopback port, and autocannon in a second process sending `concurrency` queries at
 * once. The CPU each side spent per answer is measured too (the exchange's process, the database
 * server's processes, the load process): on a machine of few cores, their sum bounds the rate.
 */
async function concurrentLoad(app: ReturnType<typeof createApp>, key: string, token: string, size: number, engine: 'pglite' | 'postgres'): Promise<LoadResult> {
  const directory = mkdtempSync(join(tmpdir(), 'cx-bench-'));
  const bodies = join(directory, 'bodies.ndjson');
  const lines: string[] = [];
  for (let n = 0; n < 5000; n += 1) {
    const query = typo(person(Math.floor(((n + 7_000_000) * 2654435761) % size)));
    lines.push(matchBody(query));
  }
  writeFileSync(bodies, `${lines.join('\n')}\n`);
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    const child = spawn(process.execPath, ['--import', 'tsx', new URL('./match-load.ts', import.meta.url).pathname, `http://127.0.0.1:${port}`, bodies, String(concurrency), String(loadSeconds)], {
      env: { ...process.env, BENCH_KEY: key, BENCH_TOKEN: token },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const profiling = process.env.BENCH_PROFILE ? await startProfile() : undefined;
    const exchangeBefore = process.cpuUsage();
    const databaseBefore = engine === 'postgres' ? postgresCpuSeconds() : undefined;
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    if (code !== 0) throw new Error(`the load process exited with ${code}`);
    const exchange = process.cpuUsage(exchangeBefore);
    if (profiling) await profiling.stop(`${process.env.BENCH_PROFILE}.${engine}.${size}.cpuprofile`);
    const databaseAfter = databaseBefore === undefined ? undefined : postgresCpuSeconds();
    const result = JSON.parse(output.trim().split('\n').pop()!) as Omit<LoadResult, 'cpu'> & { loadCpuSeconds: number };
    const answers = Object.values(result.statuses).reduce((sum, n) => sum + n, 0) || 1;
    // Milliseconds of CPU per answer; the exchange's includes the load process's start-up wait, which is idle.
    const perAnswer = (seconds: number) => (seconds * 1000) / answers;
    return {
      ...result,
      cpu: {
        exchange: perAnswer((exchange.user + exchange.system) / 1e6),
        ...(databaseAfter === undefined ? {} : { database: perAnswer(databaseAfter - databaseBefore!) }),
        load: perAnswer(result.loadCpuSeconds),
      },
    };
  } finally {
    await new Promise((resolve) => server.close(resolve));
    rmSync(directory, { recursive: true, force: true });
  }
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

async function run(engine: 'pglite' | 'postgres', db: Database): Promise<void> {
  // The benchmark asks far faster than a partner may: its budgets are lifted.
  // A secret of the benchmark's own (its databases hold generated people only), so that a kept
  // database opens whichever checkout runs it.
  const config = loadConfig({ LOG_LEVEL: 'silent', EXCHANGE_SECRET: Buffer.alloc(32, 'bench').toString('base64url'), UPLOAD_LIMIT_BYTES: String(8 * 1024 ** 3), RATE_LIMIT_PER_KEY: '1000000', RATE_LIMIT_MATCH_PER_KEY: '1000000' });
  const logger = createLogger('silent');
  const operator: ServiceContext = { db, config, logger, actor: { type: 'operator' }, requestId: null };
  // A kept database (BENCH_KEEP) has its partners and records from an earlier run.
  const partner = async (slug: string) => (await selectPartner(db, slug)) ?? createPartner({ ctx: operator, input: { slug, name: slug } });
  const grantor = await partner('grantor');
  const grantee = await partner('grantee');
  const { key: granteeKey } = await createApiKey({ ctx: operator, input: { name: 'bench', partner: 'grantee' } });
  const signing = (await generateSigningKey('EdDSA', 'bench')).privateJwk;
  const { d: _d, ...publicJwk } = signing;
  await db.transaction((tx) => replacePartnerKeys(tx, grantor.id, [{ kid: 'bench', alg: 'EdDSA', jwk: publicJwk as Record<string, unknown> }]));
  const { token } = await mintConsentToken({
    privateJwk: signing, grantor: grantor.id, grantee: grantee.id, audience: config.EXCHANGE_ID, purpose: 'fraud_prevention',
    lawfulBasis: 'legitimate_interests', actions: ['match', 'disclose'], fields: ['name', 'birthDate'], ttlSeconds: 86_400,
  });
  const app = createApp({ db, config, logger });
  // The audit log's integrator runs beside the queries, as in `cx serve`: each match's events are
  // hashed into the log while the next are asked, and that costs both sides CPU too.
  await ensureExchangeSigningKey(db, secretsFor(config));
  const background = startBackground({ db, config, logger, auditLog: await openAuditLog(db, config), close: () => db.close() });
  try {
    await measure(engine, db, { config, operator, grantor, granteeKey, token, app });
  } finally {
    await background.drain();
  }
}

async function measure(
  engine: 'pglite' | 'postgres',
  db: Database,
  { config, operator, grantor, granteeKey, token, app }: { config: ReturnType<typeof loadConfig>; operator: ServiceContext; grantor: { id: string }; granteeKey: string; token: string; app: ReturnType<typeof createApp> },
): Promise<void> {
  const asGrantor: ServiceContext = { ...operator, actor: { type: 'api_key', keyId: 'bench', role: 'partner', partnerId: grantor.id } };
  // A kept database's dataset of that name, with how many current records it holds.
  const keptDataset = async (name: string) => {
    const [kept] = await db.query<{ id: string; stored: number }>(
      `SELECT d.id, (SELECT count(*) FROM customer_records r WHERE r.partner_id = d.partner_id AND r.dataset_id = d.id AND r.valid_to IS NULL)::int AS stored
       FROM datasets d WHERE d.partner_id = $1 AND d.name = $2`,
      [grantor.id, name],
    );
    return kept;
  };
  const kept = await keptDataset('customers');
  const dataset = kept ?? (await createDataset({ ctx: asGrantor, input: { name: 'customers' } }));
  const load = async (from: number, to: number, datasetId: string, transform?: (p: Person) => Person) => {
    const started = performance.now();
    await uploadDataset({ ctx: asGrantor, datasetId, input: { body: records(from, to, transform), contentType: 'application/x-ndjson', mapping: 'canonical' } });
    return (performance.now() - started) / 1000;
  };

  let stored = kept?.stored ?? 0;
  for (const size of sizes) {
    if (stored > size) throw new Error(`the kept database holds ${stored} records, more than ${size}`);
    const seconds = stored < size ? await load(stored, size, dataset.id) : 0;
    stored = size;
    const latencies: number[] = [];
    let found = 0;
    // Warm-up queries (other people) first, as a running service is: connections opened, plans
    // and statements cached, code optimised. Then the measured ones.
    for (let n = -warmUp; n < queries; n += 1) {
      const target = person(Math.floor(((n + warmUp * 1000) * 2654435761) % size));
      const query = typo(target);
      const started = performance.now();
      const response = await app.request('/v1/match', {
        method: 'POST',
        headers: { authorization: `Bearer ${granteeKey}`, 'consent-token': token, 'content-type': 'application/json' },
        body: matchBody(query),
      });
      const body = (await response.json()) as { results: { sourceId: string }[] };
      if (n < 0) continue;
      latencies.push(performance.now() - started);
      if (body.results?.[0]?.sourceId === target.id) found += 1;
    }
    latencies.sort((a, b) => a - b);
    console.log(
      `bench:match ${engine.padEnd(8)} single query, ${size.toLocaleString('en')} records (loaded in ${seconds.toFixed(0)} s): ` +
        `p50 ${quantile(latencies, 0.5).toFixed(1)} ms, p95 ${quantile(latencies, 0.95).toFixed(1)} ms over ${queries} queries after ${warmUp} warm-up; right record first in ${found} of ${queries}`,
    );
    if (concurrency > 0) {
      const load = await concurrentLoad(app, granteeKey, token, size, engine);
      console.log(
        `bench:match ${engine.padEnd(8)} concurrent, ${size.toLocaleString('en')} records, ${concurrency} at once for ${loadSeconds} s from a second process: ` +
          `${load.perSecond.toFixed(0)} matches/s, p50 ${load.p50.toFixed(1)} ms, p95 ${load.p95.toFixed(1)} ms, p99 ${load.p99.toFixed(1)} ms (answers by status: ${JSON.stringify(load.statuses)})`,
      );
      const { exchange, database, load: generator } = load.cpu;
      const total = exchange + (database ?? 0) + generator;
      console.log(
        `bench:match ${engine.padEnd(8)}   CPU per answer: exchange ${exchange.toFixed(2)} ms${database === undefined ? ' (the database runs in it)' : `, database server ${database.toFixed(2)} ms`}, load process ${generator.toFixed(2)} ms; ` +
          `${availableParallelism()} cores at most ${Math.round((availableParallelism() * 1000) / total)} answers/s at that cost`,
      );
    }
  }
  if (linkageSize === 0) return;

  // Batch linkage: a dataset of typo'd copies (half of them) and new people, against the first records.
  // Kept (BENCH_KEEP) when a run of the same size loaded them.
  const side = async (name: string, from: number, transform?: (p: Person) => Person) => {
    const kept = await keptDataset(`${name} ${linkageSize}`);
    if (kept?.stored === linkageSize) return kept;
    const created = kept ?? (await createDataset({ ctx: asGrantor, input: { name: `${name} ${linkageSize}` } }));
    await load(from, from + linkageSize, created.id, transform);
    return created;
  };
  const left = await side('left', 0);
  const right = await side('right', linkageSize / 2, (p) => (Number(p.id.slice(1)) < linkageSize ? typo(p) : p));
  const started = performance.now();
  const model = defaultModel();
  let candidatesAt = 0;
  const result = await linkDatasets(
    db,
    { partnerId: grantor.id, datasetId: left.id },
    { partnerId: grantor.id, datasetId: right.id },
    { model, threshold: model.thresholds.possible, onProgress: (stage) => void (stage === 'candidates' && (candidatesAt = performance.now())) },
  );
  const seconds = (performance.now() - started) / 1000;
  const correct = result.links.filter((l) => l.leftId === l.rightId).length;
  console.log(
    `bench:match ${engine.padEnd(8)} batch linkage ${linkageSize.toLocaleString('en')} × ${linkageSize.toLocaleString('en')}: ${seconds.toFixed(1)} s, ` +
      `${result.candidatePairs.toLocaleString('en')} candidate pairs (${Math.round(result.candidatePairs / seconds).toLocaleString('en')} compared pairs/s), ` +
      `${result.links.length.toLocaleString('en')} links, ${correct.toLocaleString('en')} of ${(linkageSize / 2).toLocaleString('en')} true pairs found; ` +
      `blocking ${((candidatesAt - started) / 1000).toFixed(1)} s (its recall estimate runs while the pairs are compared)`,
  );
  for (const rule of result.blocking.rules) if (rule.refinedBy || rule.leftOut) console.log(`bench:match ${engine.padEnd(8)}   rule ${rule.name}: ${rule.pairs} pairs${rule.refinedBy ? `, refined by ${rule.refinedBy.join(' and ')}` : ''}${rule.leftOut ? ', left out' : ''}`);
}

// The naive baseline: fuse.js searching every record, no blocking (BENCH_NAIVE=0 skips it).
if (process.env.BENCH_NAIVE !== '0') {
  const people = Array.from({ length: 100_000 }, (_, i) => person(i));
  const fuse = new Fuse(people, { keys: ['given', 'family', 'birthDate', 'postcode'], includeScore: true, threshold: 0.4 });
  const latencies: number[] = [];
  for (let n = 0; n < 5; n += 1) {
    const query = typo(person(n * 9973));
    const started = performance.now();
    fuse.search(`${query.given} ${query.family} ${query.birthDate}`, { limit: 10 });
    latencies.push(performance.now() - started);
  }
  console.log(`bench:match naive fuse.js over 100,000 records, no blocking: ${(latencies.reduce((a, b) => a + b) / latencies.length).toFixed(0)} ms per query (mean of 5)`);
}

await onBothEngines(run);
