/** The server engine: a PostgreSQL server reached through postgres.js. */
import postgres from 'postgres';
import { Readable, type Writable } from 'node:stream';
import { once } from 'node:events';
import { finished, pipeline } from 'node:stream/promises';
import { copyStatement, typeOids, type Database, type Queryable } from './database.js';

type Sql = postgres.Sql | postgres.TransactionSql | postgres.ReservedSql;

/**
 * COPY … FROM STDIN whose failure is always heard. postgres.js 3.4.9 never settles the writable when
 * the server refuses the data after CopyDone (porsager/postgres#1173): the stream's end waits forever,
 * `sql.begin` never rolls back and the pooled connection stays "idle in transaction (aborted)". The
 * server's error still reaches the query's `reject`, so it is caught there and ends the wait.
 */
async function startCopy(sql: Sql, text: string): Promise<{ stream: Writable; failed: Promise<never> }> {
  const query = sql.unsafe(text) as unknown as { reject: (error: unknown) => void; writable(): Promise<Writable> };
  let fail!: (error: unknown) => void;
  const failed = new Promise<never>((_, reject) => (fail = reject));
  failed.catch(() => {});
  const reject = query.reject;
  query.reject = (error) => {
    fail(error);
    reject(error);
  };
  const stream = await query.writable();
  return { stream, failed };
}

function queryable(sql: Sql): Queryable {
  return {
    async query<T>(text: string, params: readonly unknown[] = []) {
      // Named statements, kept per connection: a repeated query skips parsing and planning (about
      // half of a single match query's time in the database). Texts are fixed or built from a
      // bounded set of parts; values always travel as parameters.
      const rows = await sql.unsafe(text, params as postgres.ParameterOrJSON<never>[], { prepare: params.length > 0 });
      return rows as unknown as T[];
    },
    async exec(text: string) {
      await sql.unsafe(text);
    },
    async copyRows(table, columns, lines) {
      const { stream, failed } = await startCopy(sql, copyStatement(table, columns));
      await Promise.race([pipeline(Readable.from([lines]), stream), failed]);
    },
    async openCopy(table, columns) {
      const { stream, failed } = await startCopy(sql, copyStatement(table, columns));
      // postgres.js destroys the stream with the server's error; keep it for the next call.
      let failure: unknown;
      stream.on('error', (error) => (failure ??= error));
      failed.catch((error: unknown) => (failure ??= error));
      return {
        async write(lines) {
          if (failure) throw failure;
          if (!stream.write(lines)) await Promise.race([once(stream, 'drain'), failed]);
        },
        async end() {
          if (failure) throw failure;
          stream.end();
          await Promise.race([finished(stream), failed]);
        },
        abort() {
          // CopyFail: the server ends the COPY with an error and the connection is free again.
          if (!stream.destroyed) stream.destroy(new Error('upload aborted'));
        },
      };
    },
  };
}

export interface PostgresOptions {
  onNotice?: (message: string) => void;
  max?: number;
  /** Connections for long work (Database.longWork), opened on first use; without it, long work shares `max`. */
  longWorkMax?: number;
}

/**
 * libpq's way of naming a Unix socket in a URL, `postgres://user@localhost/db?host=/var/run/postgresql`,
 * which postgres.js would send to the server as a setting: the directory becomes its `host` option.
 */
function socketDirectory(url: string): { url: string; host?: string } {
  const parsed = URL.canParse(url) ? new URL(url) : undefined;
  const host = parsed?.searchParams.get('host');
  if (!parsed || !host?.startsWith('/')) return { url };
  parsed.searchParams.delete('host');
  return { url: parsed.toString(), host };
}

/** postgres.js on a URL, a Unix socket's `?host=` understood (for the exchange, and the tests' and benchmarks' administration). */
export function connectPostgres(url: string, options: postgres.Options<Record<string, postgres.PostgresType>> = {}): postgres.Sql {
  const socket = socketDirectory(url);
  return postgres(socket.url, { ...(socket.host ? { host: socket.host } : {}), ...options });
}

export function openPostgres(url: string, options: PostgresOptions = {}): Database {
  const { longWorkMax, max = 10 } = options;
  let longWorkDb: Database | undefined;
  const sql = connectPostgres(url, {
    max,
    onnotice: (notice) => options.onNotice?.(String(notice.message)),
    connection: { application_name: 'customer-exchange' },
    types: {
      int8: { to: typeOids.int8, from: [typeOids.int8], serialize: (v: number) => String(v), parse: (v: string) => Number(v) },
      date: { to: typeOids.date, from: [typeOids.date], serialize: (v: string) => v, parse: (v: string) => v },
    },
  });
  return {
    engine: 'postgres',
    connections: max,
    ...queryable(sql),
    transaction: (fn) => sql.begin((tx) => fn(queryable(tx))) as Promise<never>,
    async session(fn) {
      const reserved = await sql.reserve();
      try {
        return await fn(queryable(reserved));
      } finally {
        reserved.release();
      }
    },
    ...(longWorkMax ? { longWork: () => (longWorkDb ??= openPostgres(url, { onNotice: options.onNotice, max: longWorkMax })) } : {}),
    close: async () => {
      await Promise.all([sql.end({ timeout: 5 }), longWorkDb?.close()]);
    },
  };
}
