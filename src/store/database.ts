/**
 * One small interface over the two engines: PGlite (embedded) and a PostgreSQL server (postgres.js).
 * Both answer with the same JavaScript types: int8 as number, date as 'YYYY-MM-DD', numeric as string,
 * timestamptz as Date, jsonb as parsed JSON. Parameters use $1…$n; pass JSON values as objects (both
 * engines serialise a parameter the server describes as json/jsonb).
 */
export type Row = Record<string, unknown>;

export interface Queryable {
  query<T = Row>(text: string, params?: readonly unknown[]): Promise<T[]>;
  /** Runs one or more statements without parameters (migrations). */
  exec(text: string): Promise<void>;
  /** Bulk-loads lines made by `copyLine` into a table with COPY … FROM STDIN. */
  copyRows(table: string, columns: readonly string[], lines: string): Promise<void>;
  /**
   * A COPY that stays open while lines are written, so the database loads rows as they are made.
   * Nothing else may run on this connection until it is ended or aborted.
   */
  openCopy(table: string, columns: readonly string[]): Promise<CopyWriter>;
}

export interface CopyWriter {
  /** Newline-terminated `copyLine` lines; resolves when the database can take more. */
  write(lines: string): Promise<void>;
  /** Finishes the COPY; rejects with the database's error, if it had one. */
  end(): Promise<void>;
  /** Gives up: the COPY fails, so that the transaction can roll back. */
  abort(): void;
}

const COPY_BUFFER_CHARS = 8 * 1024 * 1024;

/** For an engine that loads from a whole blob (PGlite): lines gather and go in as one COPY per few megabytes. */
export function bufferedCopy(copyRows: (lines: string) => Promise<void>): CopyWriter {
  let pending: string[] = [];
  let size = 0;
  const flush = async () => {
    if (!pending.length) return;
    const text = pending.join('');
    pending = [];
    size = 0;
    await copyRows(text);
  };
  return {
    async write(lines) {
      pending.push(lines);
      size += lines.length;
      if (size >= COPY_BUFFER_CHARS) await flush();
    },
    end: flush,
    abort() {
      pending = [];
      size = 0;
    },
  };
}

export interface Database extends Queryable {
  readonly engine: 'pglite' | 'postgres';
  /** How many connections it has (PGlite: one). */
  readonly connections: number;
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Runs `fn` on one connection, so that session state (temporary tables) holds across its statements; released however it ends. */
  session<T>(fn: (db: Queryable) => Promise<T>): Promise<T>;
  /**
   * Connections of their own for work that holds one for long (an upload's transaction while its
   * body streams in, batch linkage, training), so that it cannot take all the requests'. Without
   * it (PGlite, one connection anyway), the same database: see forLongWork.
   */
  longWork?(): Database;
  close(): Promise<void>;
}

/** The database for work that holds a connection for long: its own connections where the engine has them. */
export const forLongWork = (db: Database): Database => db.longWork?.() ?? db;

/** `fn` on one connection: a database's session, or the transaction's own connection. */
export function onOneConnection<T>(db: Queryable, fn: (db: Queryable) => Promise<T>): Promise<T> {
  return 'session' in db ? (db as Database).session(fn) : fn(db);
}

/** OIDs whose parsing both engines are told to agree on. */
export const typeOids = { int8: 20, date: 1082 } as const;

/** Quotes an SQL identifier; identifiers here come from code, never from callers. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** COPY … FROM STDIN for a server; PGlite reads the data it is given as the file '/dev/blob'. */
export function copyStatement(table: string, columns: readonly string[], from: 'STDIN' | "'/dev/blob'" = 'STDIN'): string {
  return `COPY ${quoteIdent(table)} (${columns.map(quoteIdent).join(', ')}) FROM ${from} WITH (FORMAT text)`;
}

const needsEscape = /[\\\t\n\r]/;
const escapes: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/**
 * One row in COPY's text format: tab-separated, `\N` for null. Text format rather than CSV because
 * only backslashes and control characters need escaping, and JSON has neither as a rule, where CSV
 * would double every quote of a JSON record.
 */
export function copyLine(values: readonly (string | number | null)[]): string {
  let line = '';
  for (let i = 0; i < values.length; i += 1) {
    const value = values[i];
    const text = value === null || value === undefined ? '\\N' : typeof value === 'number' ? String(value) : needsEscape.test(value) ? value.replace(/[\\\t\n\r]/g, (c) => escapes[c]!) : value;
    line += i === 0 ? text : `\t${text}`;
  }
  return line;
}
