/** A fresh, migrated database for one test file, on the engine the run is for. */
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import type { Database } from '../../src/store/database.js';
import { openPglite, openPgliteFromDump } from '../../src/store/pglite.js';
import { connectPostgres, openPostgres } from '../../src/store/postgres.js';

export const engineUnderTest: 'pglite' | 'postgres' = process.env.TEST_DATABASE_URL ? 'postgres' : 'pglite';

/** Creates a database on the test server (optionally a copy of the migrated template); returns its URL and how to drop it. */
export async function createServerDatabase(prefix: string, fromTemplate: boolean): Promise<{ url: string; drop(): Promise<void> }> {
  const serverUrl = process.env.TEST_DATABASE_URL!;
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = connectPostgres(serverUrl, { max: 1, onnotice: () => {} });
  for (let attempt = 1; ; attempt += 1) {
    try {
      await admin.unsafe(`CREATE DATABASE ${name}${fromTemplate ? ` TEMPLATE ${inject('templateDatabase')}` : ''}`);
      break;
    } catch (error) {
      // Two files copying the template at the same moment: the server refuses one; try again.
      if (attempt >= 20) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
    }
  }
  const target = new URL(serverUrl);
  target.pathname = `/${name}`;
  return {
    url: target.toString(),
    drop: async () => {
      await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}

async function openOnServer(prefix: string, fromTemplate: boolean): Promise<Database> {
  const { url, drop } = await createServerDatabase(prefix, fromTemplate);
  // Long work (uploads, linkage) on connections of its own, as the service runs it.
  const db = openPostgres(url, { longWorkMax: 4 });
  return { ...db, close: async () => (await db.close(), await drop()) };
}

export async function createTestDatabase(): Promise<Database> {
  if (!process.env.TEST_DATABASE_URL) return openPgliteFromDump(new Blob([readFileSync(inject('templateDump'))]));
  return openOnServer('cx_test', true);
}

/** A database with nothing in it, not even the migrations (to test migrating from scratch). */
export async function createEmptyDatabase(): Promise<Database> {
  if (!process.env.TEST_DATABASE_URL) return openPglite(undefined);
  return openOnServer('cx_empty', false);
}
