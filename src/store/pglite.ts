/** The embedded engine: PostgreSQL compiled to WebAssembly, persisted in a local directory. */
import { PGlite, type PGliteInterface, type Transaction } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { fuzzystrmatch } from '@electric-sql/pglite/contrib/fuzzystrmatch';
import { bufferedCopy, copyStatement, typeOids, type Database, type Queryable } from './database.js';

const extensions = { pg_trgm, fuzzystrmatch };
const parsers = { [typeOids.date]: (value: string) => value };

function queryable(target: PGliteInterface | Transaction): Queryable {
  const copyRows = async (table: string, columns: readonly string[], lines: string) => {
    await target.query(copyStatement(table, columns, "'/dev/blob'"), [], { blob: new Blob([lines]) });
  };
  return {
    async query<T>(text: string, params: readonly unknown[] = []) {
      const result = await target.query<T>(text, params as unknown[]);
      return result.rows;
    },
    async exec(text: string) {
      await target.exec(text);
    },
    copyRows,
    async openCopy(table, columns) {
      // PGlite runs in this thread: it could not load while the caller makes lines anyway.
      return bufferedCopy((lines) => copyRows(table, columns, lines));
    },
  };
}

function wrap(pg: PGlite): Database {
  return {
    engine: 'pglite',
    connections: 1,
    ...queryable(pg),
    transaction: (fn) => pg.transaction((tx) => fn(queryable(tx))),
    // One connection, one session: temporary tables hold between its statements.
    session: (fn) => fn(queryable(pg)),
    close: () => pg.close(),
  };
}

/** Opens (creating when new) the embedded database in `directory`; in memory when undefined. */
export async function openPglite(directory: string | undefined): Promise<Database> {
  const pg = await PGlite.create(directory ? { dataDir: directory, extensions, parsers } : { extensions, parsers });
  return wrap(pg);
}

/**
 * Opens an embedded database from a dump made by `dumpPglite` (tests and the offline tools start
 * from a migrated template), in memory or written to `directory`.
 */
export async function openPgliteFromDump(dump: Blob, directory?: string): Promise<Database> {
  return wrap(await PGlite.create({ loadDataDir: dump, ...(directory ? { dataDir: directory } : {}), extensions, parsers }));
}

export async function dumpPglite(directory: string): Promise<Blob> {
  const pg = await PGlite.create({ dataDir: directory, extensions, parsers });
  try {
    return (await pg.dumpDataDir('none')) as Blob;
  } finally {
    await pg.close();
  }
}
