/**
 * fsck of the audit log, on its database: every entry is checked against its event's digest and rehashed (the
 * lesson of immudb's audit mode: recompute leaves from the entries, never trust stored hashes),
 * the tree is rebuilt and compared with the stored tiles and with every signed checkpoint, and
 * every event must be logged or queued. Reports the first index where the log stops holding.
 */
import type { Queryable } from '../store/database.js';
import { countEventsAndQueued, selectCheckpoints, selectEntriesWithDigests, selectTile, selectUnloggedEventIds } from '../store/audit-log.js';
import { TILE_WIDTH } from './log.js';
import { CompactRange, leafHash, sameHash } from './merkle.js';
import { openNote, parseCheckpoint, type Verifier } from './note.js';

export interface VerifyReport {
  ok: boolean;
  size: bigint;
  checkpoints: number;
  problems: { index?: string; eventId?: number; problem: string }[];
}

const enc = new TextEncoder();

export async function verifyLog(db: Queryable, verifiers: Verifier[], options: { pageSize?: number } = {}): Promise<VerifyReport> {
  const pageSize = BigInt(options.pageSize ?? 8192);
  const problems: VerifyReport['problems'] = [];
  const checkpoints = await selectCheckpoints(db);
  for (const checkpoint of checkpoints) {
    try {
      const { text } = openNote(checkpoint.note, verifiers);
      const parsed = parseCheckpoint(text);
      if (parsed.size !== checkpoint.size || !sameHash(parsed.root, checkpoint.root)) problems.push({ problem: `checkpoint ${checkpoint.size}: its note says another size or root than its row` });
    } catch (error) {
      problems.push({ problem: `checkpoint ${checkpoint.size}: ${(error as Error).message}` });
    }
  }
  const bySize = new Map(checkpoints.map((c) => [c.size, c]));
  const tree = CompactRange.empty();
  let tile: Uint8Array | undefined;
  let tileIndex = -1n;
  let expected = 0n;
  const checkRoot = () => {
    const checkpoint = bySize.get(tree.size);
    if (checkpoint && !sameHash(tree.root(), checkpoint.root)) problems.push({ index: String(tree.size - 1n), problem: `the log's first ${tree.size} entries do not hash to the root of the checkpoint of that size` });
  };
  checkRoot();
  // The next page is read while this one is checked.
  const logged = new Set<number>();
  let next = selectEntriesWithDigests(db, 0n, pageSize);
  for (let from = 0n; ; from += pageSize) {
    const rows = await next;
    if (BigInt(rows.length) === pageSize) next = selectEntriesWithDigests(db, from + pageSize, from + 2n * pageSize);
    for (const row of rows) {
      const index = BigInt(row.idx);
      if (index !== expected) {
        problems.push({ index: String(expected), problem: `entries ${expected}…${index - 1n} are missing` });
        expected = index;
      }
      if (row.digest !== null) logged.add(row.eventId);
      if (row.digest === null) problems.push({ index: row.idx, eventId: row.eventId, problem: 'the event of this entry is gone from audit_events' });
      // JCS writes the top-level "digest" member once, with nothing between key and value.
      else if (!row.entry.includes(`"digest":"${row.digest}"`)) problems.push({ index: row.idx, eventId: row.eventId, problem: 'the event differs from its logged entry (edited after it was logged)' });
      const leaf = leafHash(enc.encode(row.entry));
      if (index / BigInt(TILE_WIDTH) !== tileIndex) {
        tileIndex = index / BigInt(TILE_WIDTH);
        tile = await selectTile(db, 0, tileIndex);
      }
      const offset = Number(index % BigInt(TILE_WIDTH));
      const stored = tile?.subarray(offset * 32, offset * 32 + 32);
      if (!stored || !sameHash(stored, leaf)) problems.push({ index: row.idx, problem: "the entry's leaf hash differs from the stored tile" });
      tree.add(leaf);
      expected += 1n;
      checkRoot();
    }
    if (BigInt(rows.length) < pageSize) break;
  }
  const latest = checkpoints[checkpoints.length - 1];
  if (latest && latest.size > tree.size) problems.push({ index: String(tree.size), problem: `the latest checkpoint covers ${latest.size} entries but the log holds ${tree.size}` });
  // Every event is logged or queued when the distinct logged events and the queued ones (disjoint)
  // add up to all of them; only otherwise are the missing ones looked for, one by one.
  const { events, queued } = await countEventsAndQueued(db);
  if (logged.size + queued !== events) {
    for (const eventId of await selectUnloggedEventIds(db)) problems.push({ eventId, problem: 'an event is neither in the log nor queued for it' });
  }
  return { ok: problems.length === 0, size: tree.size, checkpoints: checkpoints.length, problems };
}
