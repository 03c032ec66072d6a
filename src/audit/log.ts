/**
 * The exchange's audit log as a transparency log. Events are queued in the transaction of the
 * change they record; the integrator gives them their index in batches, stores their leaf hashes
 * and the tree as tlog-tiles (256 hashes a tile), and signs a C2SP checkpoint after each batch.
 * Proofs read O(log n) tiles; nothing recomputes the tree.
 */
import canonicalize from 'canonicalize';
import { z } from 'zod';
import type { Database, Queryable } from '../store/database.js';
import { requestCosignature, type WitnessPeer } from './witness.js';
import {
  anyPendingEvent,
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
import { consistencyProof, emptyRoot, inclusionProof, leafHash, nodeHash, parseHash, sameHash, treeRoot, verifyInclusion, type Hash, type NodeReader } from './merkle.js';
import { checkpointText, openCheckpoint, parseCheckpoint, parseNote, signNote, type Signer, type Verifier } from './note.js';

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

/** A tile with the nodes above its hashes, computed once, when first asked for (a full tile's root is node(8, 0)). */
class TileNodes {
  /** levels[k]: the tile's complete subtrees of height k, 32 bytes each, side by side. */
  private levels: Uint8Array[];

  constructor(content: Uint8Array) {
    this.levels = [content];
  }

  get width(): number {
    return this.levels[0]!.length / 32;
  }

  node(height: number, offset: number): Hash | undefined {
    while (this.levels.length <= height) {
      const below = this.levels[this.levels.length - 1]!;
      const count = Math.floor(below.length / 64);
      const next = new Uint8Array(count * 32);
      for (let i = 0; i < count; i += 1) next.set(nodeHash(below.subarray(i * 64, i * 64 + 32), below.subarray(i * 64 + 32, i * 64 + 64)), i * 32);
      this.levels.push(next);
    }
    const level = this.levels[height]!;
    return (offset + 1) * 32 <= level.length ? level.subarray(offset * 32, offset * 32 + 32) : undefined;
  }
}

/**
 * Tiles read by each database, full or partial, kept while they fit in TILES_KEPT (8 KiB each at
 * most). A tile only grows (a trigger refuses any other change), so a kept prefix stays true and
 * serves every node it covers; a node beyond it reads the tile again.
 */
const TILES_KEPT = 2048;
const keptTiles = new WeakMap<Queryable, Map<string, TileNodes>[]>();

/** Level 0 and the levels above are kept apart: the few upper tiles serve every proof. */
const keptAt = (db: Queryable, level: number) => {
  let kept = keptTiles.get(db);
  if (!kept) keptTiles.set(db, (kept = [new Map(), new Map()]));
  return kept[level === 0 ? 0 : 1]!;
};

/** A tile's name in the caches and in `selectTiles`' answer. */
const tileKey = (level: number, index: bigint) => `${level}/${index}`;

function keptTile(db: Queryable, level: number, index: bigint): TileNodes | undefined {
  return keptAt(db, level).get(tileKey(level, index));
}

function keepTile(db: Queryable, level: number, index: bigint, content: Uint8Array): TileNodes {
  const kept = keptAt(db, level);
  const key = tileKey(level, index);
  const tile = new TileNodes(content);
  kept.delete(key);
  kept.set(key, tile);
  if (kept.size > TILES_KEPT) kept.delete(kept.keys().next().value!);
  return tile;
}

/** Where node (height, n) lies: its tile (level, index), its position and the width it needs there. */
function placeOf(height: number, n: bigint) {
  const level = Math.floor(height / TILE_HEIGHT);
  const below = height % TILE_HEIGHT;
  const first = n << BigInt(below);
  const index = first / BigInt(TILE_WIDTH);
  const offset = Number(first % BigInt(TILE_WIDTH)) >> below;
  return { level, index, key: tileKey(level, index), below, offset, width: (offset + 1) << below };
}

/** The nodes a proof will read: the proof's shape depends on sizes and indices alone. */
async function nodesRead(prove: (read: NodeReader) => Promise<unknown>): Promise<[number, bigint][]> {
  const nodes: [number, bigint][] = [];
  const zero = new Uint8Array(32);
  await prove(async (height, n) => (nodes.push([height, n]), zero));
  return nodes;
}

/**
 * Node hashes from the stored tiles: a kept tile when it is wide enough, otherwise read (once per
 * reader). `preload`, the nodes a proof will need, reads the missing tiles in one query.
 */
export function tileReader(db: Queryable, preload: [number, bigint][] = []): NodeReader {
  const reading = new Map<string, Promise<TileNodes | undefined>>();
  const wanted = new Map<string, { level: number; index: bigint }>();
  for (const [height, n] of preload) {
    const place = placeOf(height, n);
    if ((keptTile(db, place.level, place.index)?.width ?? 0) < place.width) wanted.set(place.key, place);
  }
  if (wanted.size > 1) {
    const loaded = selectTiles(db, [...wanted.values()].map(({ level, index }) => [level, index]));
    for (const [key, { level, index }] of wanted) reading.set(key, loaded.then((found) => (found.has(key) ? keepTile(db, level, index, found.get(key)!) : undefined)));
  }
  const tile = (place: ReturnType<typeof placeOf>) => {
    const kept = keptTile(db, place.level, place.index);
    if (kept && kept.width >= place.width) return Promise.resolve(kept);
    let read = reading.get(place.key);
    if (!read) {
      read = selectTile(db, place.level, place.index).then((content) => (content ? keepTile(db, place.level, place.index, content) : undefined));
      reading.set(place.key, read);
    }
    return read;
  };
  return async (height, n) => {
    const place = placeOf(height, n);
    const hash = (await tile(place))?.node(place.below, place.offset);
    if (!hash) throw new Error(`the log's tiles lack node ${height}/${n}`);
    return hash;
  };
}

/** Appends hashes at one tile level, and the roots of the tiles they fill at the level above. */
async function appendToTiles(tx: Queryable, level: number, before: bigint, hashes: Hash[], written: [number, bigint, Uint8Array][]): Promise<void> {
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
    written.push([level, index, content]);
    if (offset + take === TILE_WIDTH) filled.push(new TileNodes(content).node(TILE_HEIGHT, 0)!);
    position += BigInt(take);
    i += take;
  }
  await appendToTiles(tx, level + 1, before / BigInt(TILE_WIDTH), filled, written);
}

export interface AuditLog {
  origin: string;
  signer: Signer & { vkey: string };
}

export function signCheckpoint(log: AuditLog, size: bigint, root: Hash): string {
  return signNote(checkpointText({ origin: log.origin, size, root }), log.signer);
}

/** Events a batch integrates at most: a partial tile's rewrite, the root and a signed checkpoint are paid once for them all. */
export const INTEGRATE_BATCH = 1024;

/**
 * Integrates up to `batch` queued events: indices in queue order, gap-free (one integrator at a
 * time holds the log's lock), entries, tiles and a signed checkpoint, in one transaction.
 * Returns how many were added and the new size.
 */
export async function integrate(db: Database, log: AuditLog, batch = INTEGRATE_BATCH): Promise<{ added: number; size: bigint }> {
  // Idle: no transaction, no lock, once an empty log has its first checkpoint.
  const latest = await selectLatestCheckpoint(db);
  if (latest && !(await anyPendingEvent(db))) return { added: 0, size: latest.size };
  const written: [number, bigint, Uint8Array][] = [];
  const result = await db.transaction(async (tx) => {
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
    await appendToTiles(tx, 0, size, entries.map((e) => leafHash(enc.encode(e.entry))), written);
    const newSize = size + BigInt(entries.length);
    // The root is read from the tiles just written, the rest from the database.
    for (const [level, index, content] of written) keepTile(tx, level, index, content);
    const root = await treeRoot(tileReader(tx), newSize);
    await insertCheckpoint(tx, { size: newSize, root, note: signCheckpoint(log, newSize, root) });
    return { added: entries.length, size: newSize };
  });
  // Committed: the newest tiles, the ones most proofs read, are kept for the readers.
  for (const [level, index, content] of written) keepTile(db, level, index, content);
  return result;
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
 * a batch at a time, a checkpoint after each; at once again only while batches come back full (a
 * backlog). Going again whenever a batch found anything kept it busy under a steady stream of
 * matches: 13 checkpoints a second of 20–30 events each, every one a transaction of a dozen
 * statements, a tile rewritten and a signature. A failure is logged and tried again later.
 */
export function startIntegrator(db: Database, log: AuditLog, options: { intervalMs: number; batch?: number; witnesses?: WitnessPeer[]; onError(error: unknown): void }): Integrator {
  const batch = options.batch ?? INTEGRATE_BATCH;
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  const tick = () => {
    running = (async () => {
      try {
        let integrated = false;
        for (let full = true; full && !stopped; ) {
          const { added } = await integrate(db, log, batch);
          integrated ||= added > 0;
          full = added === batch;
        }
        if (integrated && options.witnesses?.length) await cosignLatest(db, options.witnesses, options.onError);
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
        const before = (await selectLatestCheckpoint(db))?.size;
        const size = await integrateAll(db, log);
        // The last checkpoint is cosigned too, so that a stopped exchange's log ends witnessed.
        if (size !== before && options.witnesses?.length) await cosignLatest(db, options.witnesses, options.onError);
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
  const preload = await nodesRead((read) => inclusionProof(read, index, checkpoint.size));
  const proof = await inclusionProof(tileReader(db, preload), index, checkpoint.size);
  return { index, treeSize: checkpoint.size, leafHash: leafHash(enc.encode(entry)), proof, checkpoint };
}

export async function proveConsistency(db: Queryable, from: bigint, to: bigint): Promise<Hash[]> {
  const preload = await nodesRead((read) => consistencyProof(read, from, to));
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

const receiptJsonSchema = z.object({
  index: z.string().regex(/^(0|[1-9][0-9]*)$/),
  treeSize: z.string().regex(/^(0|[1-9][0-9]*)$/),
  entry: z.string(),
  leafHash: z.string().optional(),
  proof: z.array(z.string()),
  rootHash: z.string().optional(),
  checkpoint: z.string(),
});

const proofHash = (b64: string) => {
  const hash = parseHash(b64);
  if (!hash) throw new Error('a proof hash is not a base64 SHA-256 hash');
  return hash;
};

export interface VerifiedReceipt {
  entry: string;
  index: bigint;
  size: bigint;
  /** False when no log key was given: the proof holds under the receipt's own root, unsigned. */
  signatureChecked: boolean;
  cosignedBy: string[];
}

/**
 * Verifies a receipt offline: a c2sp.org/tlog-proof@v1 text (GET /v1/audit/events/{index}/receipt)
 * or the JSON of GET /v1/audit/events/{index}/proof. With the log's verifier key, the checkpoint's
 * signature first; then the entry's inclusion under its root. Throws with the reason.
 */
export function verifyReceipt(receipt: string, log: Verifier | undefined, witnesses: Verifier[] = []): VerifiedReceipt {
  let entry: string;
  let index: bigint;
  let proof: Hash[];
  let note: string;
  if (receipt.trimStart().startsWith('{')) {
    let parsed;
    try {
      parsed = receiptJsonSchema.parse(JSON.parse(receipt));
    } catch {
      throw new Error('not a receipt: JSON without index, treeSize, entry, proof and checkpoint');
    }
    ({ entry, checkpoint: note } = parsed);
    index = BigInt(parsed.index);
    proof = parsed.proof.map(proofHash);
    if (parsed.leafHash !== undefined && !sameHash(proofHash(parsed.leafHash), leafHash(enc.encode(entry)))) throw new Error('the leafHash is not the hash of the entry');
  } else {
    const split = receipt.indexOf('\n\n');
    if (split < 0) throw new Error('not a tlog-proof: no blank line before the checkpoint');
    const lines = receipt.slice(0, split).split('\n');
    if (lines[0] !== 'c2sp.org/tlog-proof@v1') throw new Error('not a c2sp.org/tlog-proof@v1 receipt');
    let at = 1;
    const extra = lines[at]?.startsWith('extra ') ? Buffer.from(lines[at++]!.slice(6), 'base64').toString('utf8') : undefined;
    const indexLine = /^index (0|[1-9][0-9]*)$/.exec(lines[at++] ?? '');
    if (!indexLine) throw new Error('the receipt has no index line');
    if (extra === undefined) throw new Error('the receipt does not carry its entry (extra)');
    entry = extra;
    index = BigInt(indexLine[1]!);
    proof = lines.slice(at).map(proofHash);
    note = receipt.slice(split + 2);
  }
  const opened = log ? openCheckpoint(note, log, witnesses) : { checkpoint: parseCheckpoint(parseNote(note).text), cosignedBy: [] };
  const { size, root } = opened.checkpoint;
  if (!verifyInclusion(leafHash(enc.encode(entry)), index, size, proof, root)) throw new Error(`the entry is not at index ${index} of the checkpointed tree of ${size}`);
  return { entry, index, size, signatureChecked: log !== undefined, cosignedBy: opened.cosignedBy };
}
