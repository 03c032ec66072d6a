/**
 * fsck of the audit log, on its database: every entry is checked against its event's digest and
 * rehashed (the lesson of immudb's audit mode: recompute leaves from the entries, never trust
 * stored hashes), the tree is rebuilt and compared with the stored tiles and with every signed
 * checkpoint, and every event must be logged or queued. Reports every problem, in log order.
 */
import { startWorker } from '../core/worker-thread.js';
import type { Database } from '../store/database.js';
import { countEventsAndQueued, logSize, selectCheckpoints, selectEntriesWithDigests, selectEntryPage, selectLeafTiles, selectUnloggedEventIds } from '../store/audit-log.js';
import { LeafCheck, type LeafPage, type LeafProblem } from './leaf-check.js';
import { TILE_WIDTH } from './log.js';
import { sameHash } from './merkle.js';
import { openNote, parseCheckpoint, type Verifier } from './note.js';

export interface VerifyReport {
  ok: boolean;
  size: bigint;
  checkpoints: number;
  problems: { index?: string; eventId?: number; problem: string }[];
}

/**
 * On PGlite, whose database work shares this thread, the hashing moves to a worker above this many
 * entries (1M: 10.8 s → 8.2 s). A server computes beside us already: there a worker only adds a
 * third busy thread on two cores (6.2 s → 7.5 s).
 */
const WORKER_FROM = 100_000n;

interface LeafChecker {
  add(page: LeafPage): Promise<void> | void;
  finish(): Promise<{ problems: LeafProblem[]; size: bigint }>;
  /** Stops it, when the check fails on the way: a worker must not keep the process alive. */
  abort(): void;
}

function inThread(checkpoints: [string, string][]): LeafChecker {
  const check = new LeafCheck(checkpoints, TILE_WIDTH);
  return {
    // In slices, so that the next page's query goes out and comes in on the event loop meanwhile
    // (on a server, 1M entries: 7.7 s → 6.2 s).
    add: async (page) => {
      const entries = page.entries.split('\n');
      const tiles = new Map(page.tiles);
      for (let at = 0; at < entries.length; at += 1024) {
        check.addSlice(page, entries, tiles, at, Math.min(at + 1024, entries.length));
        await new Promise((resolve) => setImmediate(resolve));
      }
    },
    finish: async () => ({ problems: check.problems, size: check.size }),
    abort: () => {},
  };
}

function inWorker(checkpoints: [string, string][]): LeafChecker {
  const worker = startWorker(import.meta.url, 'leaf-check-worker', { checkpoints, tileWidth: TILE_WIDTH });
  const done = new Promise<{ problems: LeafProblem[]; size: bigint }>((resolve, reject) => {
    worker.once('message', (answer: { problems: LeafProblem[]; size: string }) => resolve({ problems: answer.problems, size: BigInt(answer.size) }));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the leaf-check worker stopped (exit ${code})`)));
  });
  done.catch(() => {});
  return {
    add: (page) => worker.postMessage({ page }),
    abort: () => void worker.terminate(),
    finish: async () => {
      worker.postMessage({ end: true });
      try {
        return await done;
      } finally {
        void worker.terminate();
      }
    },
  };
}

const byIndex = (a: { index?: string }, b: { index?: string }) => {
  if (a.index === undefined || b.index === undefined) return a.index === undefined ? (b.index === undefined ? 0 : -1) : 1;
  const [x, y] = [BigInt(a.index), BigInt(b.index)];
  return x < y ? -1 : x > y ? 1 : 0;
};

export async function verifyLog(db: Database, verifiers: Verifier[], options: { pageSize?: number; worker?: boolean } = {}): Promise<VerifyReport> {
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
  // Entries integrated while this runs are left for the next check, as are checkpoints.
  const end = await logSize(db);
  const signed = checkpoints.map((c): [string, string] => [String(c.size), Buffer.from(c.root).toString('base64')]);
  const leaves = (options.worker ?? (db.engine === 'pglite' && end >= WORKER_FROM)) ? inWorker(signed) : inThread(signed);
  const width = BigInt(TILE_WIDTH);
  const read = (from: bigint) => Promise.all([selectEntryPage(db, from, from + pageSize), selectLeafTiles(db, from / width, (from + pageSize + width - 1n) / width)]);
  /** The next index expected, and how many entries have their event still. */
  let expected = 0n;
  let logged = 0;
  try {
    let next = read(0n);
    for (let from = 0n; from < end; from += pageSize) {
      const [page, tiles] = await next;
      // The next page is read while this one is checked.
      if (from + pageSize < end) next = read(from + pageSize);
      const contiguous = page.count > 0 && page.first === String(expected) && page.last === String(expected + BigInt(page.count) - 1n);
      if (contiguous) {
        const listed = (list: string[] | null, problem: string) => {
          for (const item of list ?? []) {
            const [index, eventId] = item.split(':') as [string, string];
            problems.push({ index, eventId: Number(eventId), problem });
          }
        };
        listed(page.gone, 'the event of this entry is gone from audit_events');
        listed(page.edited, 'the event differs from its logged entry (edited after it was logged)');
        logged += page.count - (page.gone?.length ?? 0);
        await leaves.add({ from: String(from), entries: page.entries!, tiles: [...tiles] });
        expected += BigInt(page.count);
      } else {
        // A gap: the page is read again row by row, to name the missing indices.
        const rows = await selectEntriesWithDigests(db, from, from + pageSize);
        for (const row of rows) {
          const index = BigInt(row.idx);
          if (index !== expected) problems.push({ index: String(expected), problem: `entries ${expected}…${index - 1n} are missing` });
          if (row.digest === null) problems.push({ index: row.idx, eventId: row.eventId, problem: 'the event of this entry is gone from audit_events' });
          else {
            logged += 1;
            // JCS writes the top-level "digest" member once, with nothing between key and value.
            if (!row.entry.includes(`"digest":"${row.digest}"`)) problems.push({ index: row.idx, eventId: row.eventId, problem: 'the event differs from its logged entry (edited after it was logged)' });
          }
          expected = index + 1n;
        }
        if (rows.length) await leaves.add({ from: String(from), indices: rows.map((r) => r.idx), entries: rows.map((r) => r.entry).join('\n'), tiles: [...tiles] });
      }
    }
  } catch (error) {
    leaves.abort();
    throw error;
  }
  const hashed = await leaves.finish();
  problems.push(...hashed.problems);
  const latest = checkpoints[checkpoints.length - 1];
  if (latest && latest.size > hashed.size) problems.push({ index: String(hashed.size), problem: `the latest checkpoint covers ${latest.size} entries but the log holds ${hashed.size}` });
  // Every event is logged or queued when the distinct logged events and the queued ones (disjoint)
  // add up to all of them; only otherwise are the missing ones looked for, one by one.
  const { events, queued } = await countEventsAndQueued(db);
  if (logged + queued !== events) {
    for (const eventId of await selectUnloggedEventIds(db)) problems.push({ eventId, problem: 'an event is neither in the log nor queued for it' });
  }
  return { ok: problems.length === 0, size: hashed.size, checkpoints: checkpoints.length, problems: problems.sort(byIndex) };
}
