/**
 * Numbered, forward-only migrations: the same .sql files on both engines. Each runs in its own
 * transaction under an advisory lock, so two processes starting together apply each file once.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Database } from './database.js';

const migrationsDir = fileURLToPath(new URL('./migrations/', import.meta.url));
/** An arbitrary constant shared by every process of this service. */
const MIGRATION_LOCK_KEY = 7_146_201_233;

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export function listMigrations(): Migration[] {
  return readdirSync(migrationsDir)
    .filter((file) => /^\d{3}_[a-z0-9_]+\.sql$/.test(file))
    .sort()
    .map((file) => ({
      version: Number(file.slice(0, 3)),
      name: file.replace(/\.sql$/, ''),
      sql: readFileSync(migrationsDir + file, 'utf8'),
    }));
}

/** Applies the pending migrations; returns the names applied now (none when up to date). */
export async function migrate(db: Database): Promise<string[]> {
  await db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
  )`);
  const applied: string[] = [];
  for (const migration of listMigrations()) {
    const ran = await db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
      const done = await tx.query('SELECT 1 FROM schema_migrations WHERE version = $1', [migration.version]);
      if (done.length > 0) return false;
      await tx.exec(migration.sql);
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
      return true;
    });
    if (ran) applied.push(migration.name);
  }
  return applied;
}

/** The migrations not yet applied (readiness fails while any remain). */
export async function pendingMigrations(db: Database): Promise<string[]> {
  const rows = await db.query<{ version: number }>(
    `SELECT version FROM schema_migrations`,
  ).catch(() => [] as { version: number }[]);
  const done = new Set(rows.map((row) => row.version));
  return listMigrations().filter((m) => !done.has(m.version)).map((m) => m.name);
}
