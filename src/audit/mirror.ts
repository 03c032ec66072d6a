/**
 * A tlog-tiles client: reads a log from its public checkpoint and tiles alone (c2sp.org/tlog-tiles),
 * so that an auditor or a partner's monitor checks the exchange without any access of theirs. It
 * follows the log: from a saved compact range, the new entries are rehashed and the tree rebuilt,
 * and the new checkpoint's root must come out, which proves both that every entry is in it and
 * that it extends what was seen before.
 */
import { tileIndexPath, TILE_WIDTH } from './log.js';
import { CompactRange, leafHash, sameHash, type Hash } from './merkle.js';
import { openCheckpoint, type Checkpoint, type Verifier } from './note.js';

/** Tiles asked for at once: enough to hide the round trips, few enough to be a polite client. */
const IN_FLIGHT = 8;

export interface TileSource {
  checkpointNote(): Promise<string>;
  /** A tile's bytes, by its path after `tile/` (e.g. `entries/x001/234.p/17`). */
  tile(path: string): Promise<Uint8Array>;
}

/** The log could not be read for now (network, timeout, 429 or 5xx): worth trying again later. */
export class LogUnreachable extends Error {}

/** The tiles of the exchange at `baseUrl` (its /audit/checkpoint and /audit/tile/…). */
export function httpTiles(baseUrl: string, timeoutMs = 30_000): TileSource {
  const base = baseUrl.replace(/\/+$/, '');
  const get = async (path: string) => {
    let response: Response;
    try {
      response = await fetch(`${base}/audit/${path}`, { signal: AbortSignal.timeout(timeoutMs) });
    } catch (error) {
      throw new LogUnreachable(`cannot read ${base}/audit/${path}: ${String((error as Error).cause ?? (error as Error).message)}`);
    }
    if (response.status === 429 || response.status >= 500) throw new LogUnreachable(`${base}/audit/${path} answered ${response.status}`);
    // Anything else the log signed it holds: a missing tile is the log's failure, not the network's.
    if (!response.ok) throw new Error(`${base}/audit/${path} answered ${response.status}`);
    return new Uint8Array(await response.arrayBuffer());
  };
  return {
    checkpointNote: async () => new TextDecoder().decode(await get('checkpoint')),
    tile: (path) => get(`tile/${path}`),
  };
}

/** The entries of a tlog-tiles entry bundle: each big-endian uint16-length-prefixed. */
export function parseEntryBundle(bundle: Uint8Array): Uint8Array[] {
  const entries: Uint8Array[] = [];
  for (let at = 0; at < bundle.length; ) {
    if (at + 2 > bundle.length) throw new Error('an entry bundle ends inside a length prefix');
    const length = (bundle[at]! << 8) | bundle[at + 1]!;
    if (at + 2 + length > bundle.length) throw new Error('an entry bundle ends inside an entry');
    entries.push(bundle.subarray(at + 2, at + 2 + length));
    at += 2 + length;
  }
  return entries;
}

const tileName = (prefix: string, index: bigint, width: number) => `${prefix}/${tileIndexPath(index)}${width < TILE_WIDTH ? `.p/${width}` : ''}`;

/**
 * Entries [from, to) with the leaf hashes the log's level-0 tiles hold for them, tile by tile, a few
 * tiles ahead. Throws when a tile is missing or malformed.
 */
export async function* tiledEntries(source: TileSource, from: bigint, to: bigint): AsyncGenerator<{ index: bigint; entry: Uint8Array; storedLeaf: Hash }> {
  const width = BigInt(TILE_WIDTH);
  const fetchTile = async (t: bigint) => {
    const count = Number(to - t * width < width ? to - t * width : width);
    const [bundle, hashes] = await Promise.all([source.tile(tileName('entries', t, count)), source.tile(tileName('0', t, count))]);
    const entries = parseEntryBundle(bundle);
    if (entries.length !== count) throw new Error(`entry tile ${t} holds ${entries.length} entries, not ${count}`);
    if (hashes.length !== count * 32) throw new Error(`hash tile 0/${t} holds ${hashes.length} bytes, not ${count * 32}`);
    return { entries, hashes };
  };
  const first = from / width;
  const last = to === 0n ? -1n : (to - 1n) / width;
  const ahead: Promise<Awaited<ReturnType<typeof fetchTile>>>[] = [];
  let next = first;
  const fill = () => {
    while (next <= last && ahead.length < IN_FLIGHT) ahead.push(fetchTile(next++));
  };
  fill();
  for (let t = first; t <= last; t += 1n) {
    const { entries, hashes } = await ahead.shift()!;
    fill();
    for (let i = 0; i < entries.length; i += 1) {
      const index = t * width + BigInt(i);
      if (index < from) continue;
      yield { index, entry: entries[i]!, storedLeaf: hashes.subarray(i * 32, i * 32 + 32) };
    }
  }
}

/** What a monitor keeps between runs: the last checkpoint it verified and the tree's compact range. */
export interface FollowedLog {
  origin: string;
  size: string;
  root: string;
  range: { size: string; hashes: string[] };
}

export interface FollowResult {
  ok: boolean;
  checkpoint?: Checkpoint;
  cosignedBy: string[];
  /** Entries read and rehashed this time. */
  read: bigint;
  problems: { index?: string; problem: string }[];
  state?: FollowedLog;
}

/** The saved compact range, which must rebuild the saved root: a damaged state verifies nothing. */
function restoreRange(state: FollowedLog): CompactRange {
  let range: CompactRange;
  try {
    range = CompactRange.restore(state.range);
  } catch (error) {
    throw new Error(`the saved state is damaged: ${(error as Error).message}`);
  }
  if (String(range.size) !== state.size || Buffer.from(range.root()).toString('base64') !== state.root) throw new Error('the saved state is damaged: its compact range does not rebuild its root');
  return range;
}

/**
 * Reads the log's latest checkpoint and every entry after `state` (all of them without one), and
 * checks: the log's signature; no rollback and no fork against `state`; every entry's leaf hash
 * against the log's tiles; the rebuilt root against the checkpoint's. Stops at the first problem.
 */
export async function followLog(source: TileSource, log: Verifier, state: FollowedLog | undefined, witnesses: Verifier[] = []): Promise<FollowResult> {
  const problems: FollowResult['problems'] = [];
  const { checkpoint, cosignedBy } = openCheckpoint(await source.checkpointNote(), log, witnesses);
  const b64 = (hash: Hash) => Buffer.from(hash).toString('base64');
  const range = state ? restoreRange(state) : CompactRange.empty();
  if (state) {
    if (state.origin !== checkpoint.origin) throw new Error(`the saved state is of the log ${state.origin}, not ${checkpoint.origin}`);
    const seen = BigInt(state.size);
    if (checkpoint.size < seen) problems.push({ problem: `the log shrank: its checkpoint has ${checkpoint.size} entries, but ${seen} were verified before (a rollback)` });
    else if (checkpoint.size === seen && b64(checkpoint.root) !== state.root) problems.push({ problem: `the log has two different roots at size ${seen} (a fork)` });
    if (problems.length) return { ok: false, checkpoint, cosignedBy, read: 0n, problems };
  }
  let read = 0n;
  for await (const { index, entry, storedLeaf } of tiledEntries(source, range.size, checkpoint.size)) {
    const leaf = leafHash(entry);
    if (!sameHash(leaf, storedLeaf)) {
      problems.push({ index: String(index), problem: "the entry's leaf hash differs from the log's tile" });
      return { ok: false, checkpoint, cosignedBy, read, problems };
    }
    range.add(leaf);
    read += 1n;
  }
  if (!sameHash(range.root(), checkpoint.root)) {
    problems.push({
      problem: state
        ? `the log's ${checkpoint.size} entries do not hash to its checkpoint's root: it does not extend the ${state.size} verified before (history rewritten)`
        : `the log's ${checkpoint.size} entries do not hash to its checkpoint's root`,
    });
    return { ok: false, checkpoint, cosignedBy, read, problems };
  }
  return { ok: true, checkpoint, cosignedBy, read, problems, state: { origin: checkpoint.origin, size: String(checkpoint.size), root: b64(checkpoint.root), range: range.save() } };
}

/**
 * Checks an export of the log's entries (one JSON entry a line, in log order, as
 * `GET /v1/audit/entries` writes them) against a signed checkpoint: the first
 * checkpoint-size entries must hash to its root.
 */
export async function verifyEntryLines(lines: AsyncIterable<string>, checkpointNote: string, log: Verifier, witnesses: Verifier[] = []) {
  const { checkpoint, cosignedBy } = openCheckpoint(checkpointNote, log, witnesses);
  const enc = new TextEncoder();
  const range = CompactRange.empty();
  let extra = 0n;
  for await (const line of lines) {
    if (line === '') continue;
    if (range.size === checkpoint.size) {
      extra += 1n;
      continue;
    }
    range.add(leafHash(enc.encode(line)));
  }
  const problems: { problem: string }[] = [];
  if (range.size < checkpoint.size) problems.push({ problem: `the export holds ${range.size} entries, fewer than the checkpoint's ${checkpoint.size}` });
  else if (!sameHash(range.root(), checkpoint.root)) problems.push({ problem: `the export's first ${checkpoint.size} entries do not hash to the checkpoint's root` });
  return { ok: problems.length === 0, checkpoint, cosignedBy, beyondCheckpoint: extra, problems };
}
