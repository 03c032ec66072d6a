/**
 * The exchange's audit log as a transparency log. Events are queued in the transaction of the
 * change they record; the integrator gives them their index in batches, stores their leaf hashes
 * and the tree as tlog-tiles (256 hashes a tile), and signs a C2SP checkpoint after each batch.
 * Proofs read O(log n) tiles; nothing recomputes the tree.
 */
import canonicalize from 'canonicalize';
import type { Database, Queryable } from '../store/database.js';
import { requestCosignature, type WitnessPeer } from './witness.js';
import {
  insertCheckpoint,
  insertCosignature,
  insertEntries,
  lockLog,
  logSize,
  selectCheckpoint,
  selectEntries,
  selectLatestCheckpoint,
  selectPendingEvents,
  selectTile,
  selectTiles,
  writeTile,
  type LoggableEvent,
  type StoredCheckpoint,
} from '../store/audit-log.js';
import { consistencyProof, emptyRoot, inclusionProof, leafHash, nodeHash, treeRoot, verifyInclusion, type Hash, type NodeReader } from './merkle.js';
import { checkpointText, openNote, parseCheckpoint, signNote, type Signer, type Verifier } from './note.js';

export const TILE_WIDTH = 256;
const TILE_HEIGHT = 8;
/** tlog-tiles entries are uint16-length-prefixed. */
export const MAX_ENTRY_BYTES = 65_535;

const enc = new TextEncoder();

/**
 * The log entry of an event: its RFC 8785 (JCS) form, so that anyone can rebuild the bytes from
 * the event and check its leaf. Times are the database's, to the microsecond; `digest` is the
 * database's digest of the event row (store/audit-log.ts), for a fast check that it is unchanged.
 */
export function entryOf(event: LoggableEvent): string {
  const entry = canonicalize({
    v: 1,
    event: event.id,
    time: event.time,
    actor: { type: event.actorType, id: event.actorId, partner: event.actorPartnerId },
    partner: event.partnerId,
    action: event.action,
    target: { type: event.targetType, id: event.targetId },
    outcome: event.outcome,
    request: event.requestId,
    details: event.details,
    digest: event.digest,
  });
  if (entry === undefined) throw new Error('an audit event has no JSON form');
  return entry;
}

const concat = (parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
};

const hashesOf = (tile: Uint8Array, from: number, count: number): Hash[] =>
  Array.from({ length: count }, (_, i) => tile.subarray((from + i) * 32, (from + i + 1) * 32));

/** Hashes `hashes` (a power of two of them) pairwise up to one. */
function reduce(hashes: Hash[]): Hash {
  let level = hashes;
  while (level.length > 1) {
    const next: Hash[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(nodeHash(level[i]!, level[i + 1]!));
    level = next;
  }
  return level[0]!;
}

/** Full tiles never change: each database's most recently read ones are kept (8 KiB each). */
const FULL_TILES_KEPT = 2048;
const fullTiles = new WeakMap<Queryable, Map<string, Uint8Array>>();

function keepFullTile(db: Queryable, key: string, tile: Uint8Array): void {
  let kept = fullTiles.get(db);
  if (!kept) fullTiles.set(db, (kept = new Map()));
  kept.set(key, tile);
  if (kept.size > FULL_TILES_KEPT) kept.delete(kept.keys().next().value!);
}

/** The tiles that hold nodes (height, position), as (level, tile index). */
function tilesOf(nodes: [number, bigint][]): [number, bigint][] {
  const tiles = new Map<string, [number, bigint]>();
  for (const [height, n] of nodes) {
    const level = Math.floor(height / TILE_HEIGHT);
    const index = (n << BigInt(height % TILE_HEIGHT)) / BigInt(TILE_WIDTH);
    tiles.set(`${level}/${index}`, [level, index]);
  }
  return [...tiles.values()];
}

/** The nodes a proof will read: the proof's shape depends on sizes and indices alone. */
async function nodesRead(prove: (read: NodeReader) => Promise<unknown>): Promise<[number, bigint][]> {
  const nodes: [number, bigint][] = [];
  const zero = new Uint8Array(32);
  await prove(async (height, n) => (nodes.push([height, n]), zero));
  return nodes;
}

/**
 * Node hashes from the stored tiles, each tile read once per reader (and full ones once per
 * database). `preload` reads the tiles a proof needs in one query.
 */
export function tileReader(db: Queryable, preload: [number, bigint][] = []): NodeReader {
  const tiles = new Map<string, Promise<Uint8Array | undefined>>();
  const missing = preload.filter(([level, index]) => !fullTiles.get(db)?.has(`${level}/${index}`));
  if (missing.length > 1) {
    const loaded = selectTiles(db, missing);
    for (const [level, index] of missing) {
      const key = `${level}/${index}`;
      tiles.set(
        key,
        loaded.then((found) => {
          const content = found.get(key);
          if (content?.length === TILE_WIDTH * 32) keepFullTile(db, key, content);
          return content;
        }),
      );
    }
  }
  const tile = (level: number, index: bigint) => {
    const key = `${level}/${index}`;
    const full = fullTiles.get(db)?.get(key);
    if (full) return Promise.resolve(full);
    if (!tiles.has(key)) {
      tiles.set(
        key,
        selectTile(db, level, index).then((content) => {
          if (content?.length === TILE_WIDTH * 32) keepFullTile(db, key, content);
          return content;
        }),
      );
    }
    return tiles.get(key)!;
  };
  return async (height, n) => {
    const level = Math.floor(height / TILE_HEIGHT);
    const below = height % TILE_HEIGHT;
    const first = n << BigInt(below);
    const content = await tile(level, first / BigInt(TILE_WIDTH));
    const offset = Number(first % BigInt(TILE_WIDTH));
    const count = 1 << below;
    if (!content || content.length < (offset + count) * 32) throw new Error(`the log's tiles lack node ${height}/${n}`);
    return reduce(hashesOf(content, offset, count));
  };
}

/** Appends hashes at one tile level, and the roots of the tiles they fill at the level above. */
async function appendToTiles(tx: Queryable, level: number, before: bigint, hashes: Hash[]): Promise<void> {
  if (!hashes.length) return;
  const filled: Hash[] = [];
  let position = before;
  for (let i = 0; i < hashes.length; ) {
    const index = position / BigInt(TILE_WIDTH);
    const offset = Number(position % BigInt(TILE_WIDTH));
    const take = Math.min(TILE_WIDTH - offset, hashes.length - i);
    const existing = offset > 0 ? ((await selectTile(tx, level, index)) ?? new Uint8Array()).subarray(0, offset * 32) : new Uint8Array();
    if (existing.length !== offset * 32) throw new Error(`the log's tile ${level}/${index} is shorter than the log`);
    const content = concat([existing, ...hashes.slice(i, i + take)]);
    await writeTile(tx, level, index, content);
    if (offset + take === TILE_WIDTH) filled.push(reduce(hashesOf(content, 0, TILE_WIDTH)));
    position += BigInt(take);
    i += take;
  }
  await appendToTiles(tx, level + 1, before / BigInt(TILE_WIDTH), filled);
}

export interface AuditLog {
  origin: string;
  signer: Signer & { vkey: string };
}

export function signCheckpoint(log: AuditLog, size: bigint, root: Hash): string {
  return signNote(checkpointText({ origin: log.origin, size, root }), log.signer);
}

/**
 * Integrates up to `batch` queued events: indices in queue order, gap-free (one integrator at a
 * time holds the log's lock), entries, tiles and a signed checkpoint, in one transaction.
 * Returns how many were added and the new size.
 */
export async function integrate(db: Database, log: AuditLog, batch = 1024): Promise<{ added: number; size: bigint }> {
  return db.transaction(async (tx) => {
    await lockLog(tx);
    const size = await logSize(tx);
    const pending = await selectPendingEvents(tx, batch);
    if (!pending.length) {
      // An empty log has a checkpoint too, so that witnesses and mirrors can start from size 0.
      if (size === 0n && !(await selectLatestCheckpoint(tx))) await insertCheckpoint(tx, { size, root: emptyRoot(), note: signCheckpoint(log, 0n, emptyRoot()) });
      return { added: 0, size };
    }
    const entries = pending.map((event) => {
      const entry = entryOf(event);
      if (enc.encode(entry).length > MAX_ENTRY_BYTES) throw new Error(`audit event ${event.id} is larger than a log entry may be`);
      return { eventId: event.id, entry };
    });
    await insertEntries(tx, size, entries);
    await appendToTiles(tx, 0, size, entries.map((e) => leafHash(enc.encode(e.entry))));
    const newSize = size + BigInt(entries.length);
    const root = await treeRoot(tileReader(tx), newSize);
    await insertCheckpoint(tx, { size: newSize, root, note: signCheckpoint(log, newSize, root) });
    return { added: entries.length, size: newSize };
  });
}

/** Integrates until nothing is queued (tests, shutdown, `cx audit integrate`). */
export async function integrateAll(db: Database, log: AuditLog, batch?: number): Promise<bigint> {
  for (;;) {
    const { added, size } = await integrate(db, log, batch);
    if (added === 0) return size;
  }
}

export interface Integrator {
  /** Integrates what is queued now, then stops. */
  drain(): Promise<void>;
}

/**
 * Runs the integrator in the background: every `intervalMs` while events arrive (Tessera's 250 ms),
 * a batch at a time, a checkpoint after each. A failure is logged and tried again later.
 */
export function startIntegrator(db: Database, log: AuditLog, options: { intervalMs: number; witnesses?: WitnessPeer[]; onError(error: unknown): void }): Integrator {
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  const tick = () => {
    running = (async () => {
      try {
        let added = 0;
        while (!stopped && (await integrate(db, log)).added > 0) added += 1;
        if (added && options.witnesses?.length) await cosignLatest(db, options.witnesses, options.onError);
      } catch (error) {
        options.onError(error);
      }
    })();
    void running.then(() => {
      if (!stopped) timer = setTimeout(tick, options.intervalMs);
    });
  };
  timer = setTimeout(tick, 0);
  return {
    async drain() {
      stopped = true;
      clearTimeout(timer);
      await running;
      try {
        await integrateAll(db, log);
      } catch (error) {
        options.onError(error);
      }
    },
  };
}

/** Asks every witness to cosign the latest checkpoint, and keeps what they return beside it. */
export async function cosignLatest(db: Database, witnesses: WitnessPeer[], onError: (error: unknown) => void): Promise<number> {
  const checkpoint = await selectLatestCheckpoint(db);
  if (!checkpoint) return 0;
  const answers = await Promise.allSettled(witnesses.map((peer) => requestCosignature(peer, checkpoint, (from, to) => proveConsistency(db, from, to))));
  let kept = 0;
  for (const [i, answer] of answers.entries()) {
    if (answer.status === 'rejected') {
      onError(new Error(`witness ${witnesses[i]!.verifier.name}: ${(answer.reason as Error).message}`));
      continue;
    }
    for (const line of answer.value) {
      await insertCosignature(db, { size: checkpoint.size, witness: witnesses[i]!.verifier.name, line });
      kept += 1;
    }
  }
  return kept;
}

export interface InclusionAnswer {
  index: bigint;
  treeSize: bigint;
  leafHash: Hash;
  proof: Hash[];
  checkpoint: StoredCheckpoint;
}

/** The latest checkpoint, or the one of `treeSize`; undefined when there is none. */
export async function checkpointFor(db: Queryable, treeSize?: bigint): Promise<StoredCheckpoint | undefined> {
  return treeSize === undefined ? selectLatestCheckpoint(db) : selectCheckpoint(db, treeSize);
}

export async function proveInclusion(db: Queryable, index: bigint, checkpoint: StoredCheckpoint, entry: string): Promise<InclusionAnswer> {
  const preload = tilesOf(await nodesRead((read) => inclusionProof(read, index, checkpoint.size)));
  const proof = await inclusionProof(tileReader(db, preload), index, checkpoint.size);
  return { index, treeSize: checkpoint.size, leafHash: leafHash(enc.encode(entry)), proof, checkpoint };
}

export async function proveConsistency(db: Queryable, from: bigint, to: bigint): Promise<Hash[]> {
  const preload = tilesOf(await nodesRead((read) => consistencyProof(read, from, to)));
  return consistencyProof(tileReader(db, preload), from, to);
}

/** c2sp.org/tlog-proof@v1: an offline receipt (the entry as `extra`, its index, its proof, the checkpoint). */
export function tlogProof(answer: InclusionAnswer, entry: string, cosignatures: string[] = []): string {
  const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
  return [
    'c2sp.org/tlog-proof@v1',
    `extra ${b64(enc.encode(entry))}`,
    `index ${answer.index}`,
    ...answer.proof.map(b64),
    '',
    `${answer.checkpoint.note}${cosignatures.join('')}`,
  ].join('\n');
}

/** The entries bundle of tlog-tiles: each entry big-endian uint16-length-prefixed. */
export function entryBundle(entries: string[]): Uint8Array {
  return concat(
    entries.flatMap((entry) => {
      const bytes = enc.encode(entry);
      return [Uint8Array.of(bytes.length >> 8, bytes.length & 0xff), bytes];
    }),
  );
}

export type TilePath = { kind: 'hashes'; level: number; index: bigint; width: number } | { kind: 'entries'; index: bigint; width: number };

/**
 * A tlog-tiles path after `tile/`: `<L>/<N>[.p/<W>]` or `entries/<N>[.p/<W>]`, N written in groups
 * of three digits, all but the last prefixed with x (x001/x234/067). Undefined when malformed.
 */
export function parseTilePath(path: string): TilePath | undefined {
  const match = /^(entries|[0-9]{1,2})\/((?:x[0-9]{3}\/)*[0-9]{3})(?:\.p\/([0-9]{1,3}))?$/.exec(path);
  if (!match) return undefined;
  const index = BigInt(match[2]!.replaceAll('x', '').replaceAll('/', ''));
  const width = match[3] === undefined ? TILE_WIDTH : Number(match[3]);
  if (width < 1 || width >= TILE_WIDTH + (match[3] === undefined ? 1 : 0)) return undefined;
  if (match[3] !== undefined && String(width) !== match[3]) return undefined;
  // The canonical form only: no extra leading groups of zeros.
  if (tileIndexPath(index) !== match[2]) return undefined;
  return match[1] === 'entries' ? { kind: 'entries', index, width } : { kind: 'hashes', level: Number(match[1]), index, width };
}

export function tileIndexPath(index: bigint): string {
  const digits = index.toString();
  const groups: string[] = [];
  for (let end = digits.length; end > 0; end -= 3) groups.unshift(digits.slice(Math.max(0, end - 3), end).padStart(3, '0'));
  return groups.map((g, i) => (i < groups.length - 1 ? `x${g}` : g)).join('/');
}

/** The bytes of a tile, or undefined when the log does not hold that many entries yet. */
export async function readTile(db: Queryable, tile: TilePath): Promise<Uint8Array | undefined> {
  if (tile.kind === 'hashes') {
    const content = await selectTile(db, tile.level, tile.index);
    return content && content.length >= tile.width * 32 ? content.subarray(0, tile.width * 32) : undefined;
  }
  const first = tile.index * BigInt(TILE_WIDTH);
  const entries = await selectEntries(db, first, first + BigInt(tile.width));
  return entries.length === tile.width ? entryBundle(entries) : undefined;
}

/**
 * Verifies a c2sp.org/tlog-proof@v1 receipt offline against the log's verifier key(s): the
 * checkpoint's signature, then the entry's inclusion under its root. Returns the entry and where.
 */
export function verifyReceipt(receipt: string, verifiers: Verifier[]): { entry: string; index: bigint; size: bigint; verifiedBy: string[] } {
  const split = receipt.indexOf('\n\n');
  if (split < 0) throw new Error('not a tlog-proof: no blank line before the checkpoint');
  const lines = receipt.slice(0, split).split('\n');
  if (lines[0] !== 'c2sp.org/tlog-proof@v1') throw new Error('not a c2sp.org/tlog-proof@v1 receipt');
  let at = 1;
  const extra = lines[at]?.startsWith('extra ') ? Buffer.from(lines[at++]!.slice(6), 'base64').toString('utf8') : undefined;
  const indexLine = /^index (0|[1-9][0-9]*)$/.exec(lines[at++] ?? '');
  if (!indexLine) throw new Error('the receipt has no index line');
  if (extra === undefined) throw new Error('the receipt does not carry its entry (extra)');
  const proof = lines.slice(at).map((line) => {
    const hash = Buffer.from(line, 'base64');
    if (hash.length !== 32) throw new Error('a proof line is not a base64 SHA-256 hash');
    return new Uint8Array(hash);
  });
  const { text, verifiedBy } = openNote(receipt.slice(split + 2), verifiers);
  const { size, root } = parseCheckpoint(text);
  const index = BigInt(indexLine[1]!);
  if (!verifyInclusion(leafHash(enc.encode(extra)), index, size, proof, root)) throw new Error(`the entry is not at index ${index} of the checkpointed tree`);
  return { entry: extra, index, size, verifiedBy };
}
