/** Chooses the engine from the configuration: a server when DATABASE_URL is set, else embedded. */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { Database } from './database.js';
import { lockDirectory } from './lock.js';
import { openPglite } from './pglite.js';
import { openPostgres } from './postgres.js';

export async function openDatabase(config: Pick<Config, 'DATABASE_URL' | 'DATA_DIR'> & Partial<Pick<Config, 'DATABASE_POOL_SIZE' | 'DATABASE_LONG_WORK_POOL_SIZE'>>, logger?: Logger): Promise<Database> {
  if (config.DATABASE_URL) {
    const onNotice = (message: string) => logger?.debug({ notice: message }, 'database notice');
    return openPostgres(config.DATABASE_URL, { max: config.DATABASE_POOL_SIZE, longWorkMax: config.DATABASE_LONG_WORK_POOL_SIZE, onNotice });
  }
  const directory = resolve(config.DATA_DIR, 'pglite');
  mkdirSync(directory, { recursive: true });
  const unlock = lockDirectory(directory);
  try {
    const db = await openPglite(directory);
    return { ...db, close: () => db.close().finally(unlock) };
  } catch (error) {
    unlock();
    throw error;
  }
}

export function describeDatabase(config: Pick<Config, 'DATABASE_URL' | 'DATA_DIR'>): string {
  if (config.DATABASE_URL) {
    const url = new URL(config.DATABASE_URL);
    return `postgres server ${url.hostname}:${url.port || 5432}${url.pathname}`;
  }
  return `embedded PGlite in ${join(resolve(config.DATA_DIR), 'pglite')}`;
}
