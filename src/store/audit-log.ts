/**
 * The transparency log's storage: queued events, entries, tiles and checkpoints. The log's rules
 * (hashing, tiling, signing) are src/audit/log.ts; here is only their SQL.
 */
import type { Queryable } from './database.js';

/** One integrator at a time, on every process sharing the database, until the transaction ends. */
export async function lockLog(tx: Queryable): Promise<void> {
  await tx.query(`SELECT pg_advisory_xact_lock(hashtextextended('audit-log', 0))`);
}

/** An event as its log entry is made from: the time in microseconds, as the database holds it. */
export interface LoggableEvent {
  id: number;
  time: string;
  actorType: string;
  actorId: string | null;
  actorPartnerId: string | null;
  partnerId: string | null;
  action: string;
  targetType: string;
  targetId: string | null;
  outcome: string;
  requestId: string | null;
  details: Record<string, unknown>;
  /** SHA-256 of the event's columns (EVENT_DIGEST): the entry carries it, so a later edit shows. */
  digest: string;
}

/**
 * A digest of an event row `e`, made in the database from its columns: each quoted (or NULL), so
 * that no value can move into its neighbour unseen; the time in microseconds since the epoch. The
 * log entry carries it: fsck compares it with the row's digest now, so only entries and digests
 * travel.
 */
const EVENT_DIGEST = `encode(sha256(convert_to(concat_ws(',', e.id, (extract(epoch FROM e.occurred_at) * 1000000)::int8,
  quote_literal(e.actor_type), quote_nullable(e.actor_id), quote_nullable(e.actor_partner_id), quote_nullable(e.partner_id),
  quote_literal(e.action), quote_literal(e.target_type), quote_nullable(e.target_id), quote_literal(e.outcome),
  quote_nullable(e.request_id), quote_literal(e.details::text)), 'UTF8')), 'hex')`;

const loggable = `${EVENT_DIGEST} AS digest, e.id::int8 AS id, to_char(e.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS time,
  e.actor_type AS "actorType", e.actor_id AS "actorId", e.actor_partner_id AS "actorPartnerId", e.partner_id AS "partnerId",
  e.action, e.target_type AS "targetType", e.target_id AS "targetId", e.outcome, e.request_id AS "requestId", e.details`;

/**
 * Queued events, oldest first: the queue's ids first, then each event by its key. As a join, a
 * planner that took the queue for large (its statistics from a backlog, or its deleted rows not yet
 * vacuumed) merge-joined it with every event ever written: 91 ms a batch with 150,000 events.
 */
export async function selectPendingEvents(tx: Queryable, limit: number): Promise<LoggableEvent[]> {
  return tx.query<LoggableEvent>(
    `SELECT ${loggable} FROM audit_events e
     WHERE e.id = ANY (ARRAY(SELECT p.event_id FROM audit_log_pending p ORDER BY p.event_id LIMIT $1)) ORDER BY e.id`,
    [limit],
  );
}

/**
 * Whether any event waits for the log: read outside a transaction, so an idle integrator costs one
 * probe. By the key's index: a scan of the queue's table reads every row deleted since its last
 * vacuum (11 ms after 150,000 events on a server without autovacuum).
 */
export async function anyPendingEvent(db: Queryable): Promise<boolean> {
  return (await db.query('SELECT 1 FROM audit_log_pending ORDER BY event_id LIMIT 1')).length > 0;
}

export async function countPendingEvents(db: Queryable): Promise<number> {
  return (await db.query<{ n: number }>('SELECT count(*)::int8 AS n FROM audit_log_pending'))[0]!.n;
}

/** Entries [from, to) in log order, with their event's digest now (null when the event is gone). */
export async function selectEntriesWithDigests(db: Queryable, from: bigint, to: bigint): Promise<{ idx: string; entry: string; eventId: number; digest: string | null }[]> {
  // Events are read as one range of ids beside the page of entries (they follow the log's order
  // closely), and matched by hash: one index probe per entry cost more than the digests.
  return db.query(
    `WITH l AS (SELECT idx, entry, event_id FROM audit_log_entries WHERE idx >= $1::int8 AND idx < $2::int8),
          e AS (SELECT e.id, ${EVENT_DIGEST} AS digest FROM audit_events e
                WHERE e.id BETWEEN (SELECT min(event_id) FROM l) AND (SELECT max(event_id) FROM l))
     SELECT l.idx::text AS idx, l.entry, l.event_id::int8 AS "eventId", e.digest
     FROM l LEFT JOIN e ON e.id = l.event_id ORDER BY l.idx`,
    [from.toString(), to.toString()],
  );
}

/** A page of the log for fsck: its entries joined by newlines, and the indices whose event is gone or differs. */
export interface EntryPage {
  count: number;
  first: string | null;
  last: string | null;
  /** The entries in log order, joined by "\n" (JCS writes no raw newline). */
  entries: string | null;
  /** "index:eventId" of entries whose event is gone from audit_events. */
  gone: string[] | null;
  /** "index:eventId" of entries whose event's digest now is not the one the entry carries. */
  edited: string[] | null;
}

/**
 * Entries [from, to) as one row: aggregated in the database, a page crosses as a few strings
 * rather than thousands of rows, and the digests are compared where they are made.
 */
export async function selectEntryPage(db: Queryable, from: bigint, to: bigint): Promise<EntryPage> {
  const [row] = await db.query<EntryPage>(
    `WITH l AS (SELECT idx, entry, event_id FROM audit_log_entries WHERE idx >= $1::int8 AND idx < $2::int8),
          e AS (SELECT e.id, ${EVENT_DIGEST} AS digest FROM audit_events e
                WHERE e.id BETWEEN (SELECT min(event_id) FROM l) AND (SELECT max(event_id) FROM l))
     SELECT count(*)::int8 AS count, min(l.idx)::text AS first, max(l.idx)::text AS last,
       string_agg(l.entry, E'\n' ORDER BY l.idx) AS entries,
       array_agg(l.idx || ':' || l.event_id ORDER BY l.idx) FILTER (WHERE e.id IS NULL) AS gone,
       array_agg(l.idx || ':' || l.event_id ORDER BY l.idx) FILTER (WHERE e.id IS NOT NULL AND strpos(l.entry, '"digest":"' || e.digest || '"') = 0) AS edited
     FROM l LEFT JOIN e ON e.id = l.event_id`,
    [from.toString(), to.toString()],
  );
  return row!;
}

/** Level-0 tiles [from, to), base64 (it crosses faster than bytea's hex). */
export async function selectLeafTiles(db: Queryable, from: bigint, to: bigint): Promise<Map<string, Uint8Array>> {
  const rows = await db.query<{ idx: string; hashes: string }>(
    `SELECT idx::text AS idx, encode(hashes, 'base64') AS hashes FROM audit_log_tiles WHERE level = 0 AND idx >= $1::int8 AND idx < $2::int8`,
    [from.toString(), to.toString()],
  );
  return new Map(rows.map((r) => [r.idx, new Uint8Array(Buffer.from(r.hashes, 'base64'))]));
}

/** How many events there are, and how many queued ones (with an event, not yet logged). */
export async function countEventsAndQueued(db: Queryable): Promise<{ events: number; queued: number }> {
  const [row] = await db.query<{ events: number; queued: number }>(
    `SELECT (SELECT count(*) FROM audit_events)::int8 AS events,
       (SELECT count(*) FROM audit_log_pending p WHERE EXISTS (SELECT 1 FROM audit_events e WHERE e.id = p.event_id)
          AND NOT EXISTS (SELECT 1 FROM audit_log_entries l WHERE l.event_id = p.event_id))::int8 AS queued`,
  );
  return row!;
}

/** Events that are neither logged nor queued: lost from the log (verification). */
export async function selectUnloggedEventIds(db: Queryable, limit = 100): Promise<number[]> {
  const rows = await db.query<{ id: number }>(
    `SELECT e.id::int8 AS id FROM audit_events e
     WHERE NOT EXISTS (SELECT 1 FROM audit_log_entries l WHERE l.event_id = e.id)
       AND NOT EXISTS (SELECT 1 FROM audit_log_pending p WHERE p.event_id = e.id)
     ORDER BY e.id LIMIT $1`,
    [limit],
  );
  return rows.map((r) => r.id);
}

export async function logSize(db: Queryable): Promise<bigint> {
  const [row] = await db.query<{ size: string }>('SELECT coalesce(max(idx) + 1, 0)::text AS size FROM audit_log_entries');
  return BigInt(row!.size);
}

export async function insertEntries(tx: Queryable, first: bigint, entries: { eventId: number; entry: string }[]): Promise<void> {
  if (!entries.length) return;
  await tx.query(
    `INSERT INTO audit_log_entries (idx, event_id, entry)
     SELECT $1::int8 + o - 1, e, t FROM unnest($2::int8[], $3::text[]) WITH ORDINALITY AS u(e, t, o)`,
    [first.toString(), entries.map((e) => e.eventId), entries.map((e) => e.entry)],
  );
  await tx.query('DELETE FROM audit_log_pending WHERE event_id = ANY($1::int8[])', [entries.map((e) => e.eventId)]);
}

/** Entries [from, to) as stored. */
export async function selectEntries(db: Queryable, from: bigint, to: bigint): Promise<string[]> {
  const rows = await db.query<{ entry: string }>(
    'SELECT entry FROM audit_log_entries WHERE idx >= $1::int8 AND idx < $2::int8 ORDER BY idx',
    [from.toString(), to.toString()],
  );
  return rows.map((r) => r.entry);
}

export async function selectTile(db: Queryable, level: number, index: bigint): Promise<Uint8Array | undefined> {
  const [row] = await db.query<{ hashes: Uint8Array }>('SELECT hashes FROM audit_log_tiles WHERE level = $1 AND idx = $2::int8', [level, index.toString()]);
  return row ? new Uint8Array(row.hashes) : undefined;
}

/** Several tiles in one query, by "level/index". */
export async function selectTiles(db: Queryable, tiles: [number, bigint][]): Promise<Map<string, Uint8Array>> {
  const rows = await db.query<{ level: number; idx: string; hashes: Uint8Array }>(
    `SELECT t.level, t.idx::text AS idx, t.hashes FROM audit_log_tiles t
     JOIN unnest($1::int2[], $2::int8[]) AS w(level, idx) ON t.level = w.level AND t.idx = w.idx`,
    [tiles.map(([level]) => level), tiles.map(([, index]) => index.toString())],
  );
  return new Map(rows.map((r) => [`${r.level}/${r.idx}`, new Uint8Array(r.hashes)]));
}

export async function writeTile(tx: Queryable, level: number, index: bigint, hashes: Uint8Array): Promise<void> {
  await tx.query(
    `INSERT INTO audit_log_tiles (level, idx, hashes) VALUES ($1, $2::int8, $3)
     ON CONFLICT (level, idx) DO UPDATE SET hashes = EXCLUDED.hashes`,
    [level, index.toString(), Buffer.from(hashes)],
  );
}

export interface StoredCheckpoint {
  size: bigint;
  root: Uint8Array;
  note: string;
  createdAt: Date;
}

const checkpointColumns = `size::text AS size, root, note, created_at AS "createdAt"`;
const toCheckpoint = (row: { size: string; root: Uint8Array; note: string; createdAt: Date }): StoredCheckpoint => ({
  ...row,
  size: BigInt(row.size),
  root: new Uint8Array(row.root),
});

export async function insertCheckpoint(tx: Queryable, checkpoint: { size: bigint; root: Uint8Array; note: string }): Promise<void> {
  await tx.query('INSERT INTO audit_checkpoints (size, root, note) VALUES ($1::int8, $2, $3) ON CONFLICT (size) DO NOTHING', [
    checkpoint.size.toString(),
    Buffer.from(checkpoint.root),
    checkpoint.note,
  ]);
}

export async function selectLatestCheckpoint(db: Queryable): Promise<StoredCheckpoint | undefined> {
  const [row] = await db.query<{ size: string; root: Uint8Array; note: string; createdAt: Date }>(
    `SELECT ${checkpointColumns} FROM audit_checkpoints c ORDER BY c.size DESC LIMIT 1`,
  );
  return row ? toCheckpoint(row) : undefined;
}

export async function selectCheckpoint(db: Queryable, size: bigint): Promise<StoredCheckpoint | undefined> {
  const [row] = await db.query<{ size: string; root: Uint8Array; note: string; createdAt: Date }>(
    `SELECT ${checkpointColumns} FROM audit_checkpoints WHERE size = $1::int8`,
    [size.toString()],
  );
  return row ? toCheckpoint(row) : undefined;
}

export async function selectCheckpoints(db: Queryable): Promise<StoredCheckpoint[]> {
  const rows = await db.query<{ size: string; root: Uint8Array; note: string; createdAt: Date }>(`SELECT ${checkpointColumns} FROM audit_checkpoints c ORDER BY c.size`);
  return rows.map(toCheckpoint);
}

export async function insertCosignature(tx: Queryable, cosignature: { size: bigint; witness: string; line: string }): Promise<void> {
  await tx.query('INSERT INTO audit_cosignatures (size, witness, line) VALUES ($1::int8, $2, $3) ON CONFLICT (size, witness) DO UPDATE SET line = EXCLUDED.line', [
    cosignature.size.toString(),
    cosignature.witness,
    cosignature.line,
  ]);
}

export async function selectCosignatures(db: Queryable, size: bigint): Promise<{ witness: string; line: string }[]> {
  return db.query('SELECT witness, line FROM audit_cosignatures WHERE size = $1::int8 ORDER BY witness', [size.toString()]);
}
