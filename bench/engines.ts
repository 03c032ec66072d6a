/** Runs a benchmark on both engines: PGlite in a temporary directory, then a scratch database on the PostgreSQL server. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectPostgres } from '../src/store/postgres.js';
import { loadConfig } from '../src/config.js';
import type { Database } from '../src/store/database.js';
import { migrate } from '../src/store/migrate.js';
import { openPglite } from '../src/store/pglite.js';
import { openDatabase } from '../src/store/open.js';

/** The server benchmarks use: BENCH_DATABASE_URL, default the local one. */
export const benchServerUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** BENCH_ENGINES (comma-separated: pglite, postgres) narrows a run to some engines; default both. */
const engines = new Set((process.env.BENCH_ENGINES ?? 'pglite,postgres').split(',').map((e) => e.trim()));

/** A benchmark that served HTTP has closed the database with the server already. */
const closeQuietly = (db: Database) => db.close().catch(() => {});

export async function onBothEngines(run: (engine: 'pglite' | 'postgres', db: Database) => Promise<void>): Promise<void> {
  if (engines.has('pglite')) await onPglite(run);
  if (engines.has('postgres')) await onServer(run);
}

async function onPglite(run: (engine: 'pglite', db: Database) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'cx-bench-'));
  try {
    const db = await openPglite(join(dir, 'pg'));
    await migrate(db);
    await run('pglite', db);
    await closeQuietly(db);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * BENCH_KEEP=<database> keeps the server's database after the run and reuses it when it exists, so
 * that a benchmark loading a million records loads them once (bench:match skips what is stored).
 */
const keep = process.env.BENCH_KEEP;

async function onServer(run: (engine: 'postgres', db: Database) => Promise<void>): Promise<void> {
  if (keep !== undefined && !/^[a-z_][a-z0-9_]*$/.test(keep)) throw new Error('BENCH_KEEP must be a plain database name (a-z, 0-9, _)');
  const name = keep ?? `cx_bench_${process.pid}`;
  const admin = connectPostgres(benchServerUrl, { max: 1, onnotice: () => {} });
  const [existing] = await admin`SELECT 1 FROM pg_database WHERE datname = ${name}`;
  if (!existing) await admin.unsafe(`CREATE DATABASE ${name}`);
  try {
    const target = new URL(benchServerUrl);
    target.pathname = `/${name}`;
    // Opened as the service opens it: the same pools (DATABASE_POOL_SIZE, DATABASE_LONG_WORK_POOL_SIZE).
    const db = await openDatabase({ ...loadConfig(), DATABASE_URL: target.toString() });
    await migrate(db);
    await run('postgres', db);
    await closeQuietly(db);
  } finally {
    if (!keep) await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}
