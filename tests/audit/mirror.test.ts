/**
 * The tlog-tiles client against logs built in memory: a whole log verifies from its tiles, a
 * monitor resumes from its saved compact range, and it refuses a rollback, a fork, history
 * rewritten behind a new checkpoint, an entry that differs from its tile, and a checkpoint signed
 * by another key. An entries export verifies against a checkpoint, and a changed line does not.
 */
import { describe, expect, it } from 'vitest';
import { entryBundle, parseTilePath, signCheckpoint, TILE_WIDTH, type AuditLog } from '../../src/audit/log.js';
import { CompactRange, leafHash, memoryTree, treeRoot } from '../../src/audit/merkle.js';
import { followLog, parseEntryBundle, tiledEntries, verifyEntryLines, type TileSource } from '../../src/audit/mirror.js';
import { ed25519PrivateKey, noteSigner, parseVerifierKey } from '../../src/audit/note.js';

const enc = new TextEncoder();
const keyOf = (byte: number, name = 'test.example/audit'): AuditLog => ({ origin: name, signer: noteSigner(name, ed25519PrivateKey(new Uint8Array(32).fill(byte))) });
const log = keyOf(7);
const verifier = parseVerifierKey(log.signer.vkey);
const entriesOf = (n: number, from = 0) => Array.from({ length: n }, (_, i) => JSON.stringify({ v: 1, event: from + i, action: 'dataset.create' }));

/** A log served from memory: its entries, the leaf tiles (optionally other leaves) and a checkpoint. */
async function memoryLog(entries: string[], options: { leaves?: Uint8Array[]; signer?: AuditLog; size?: number } = {}): Promise<TileSource & { requests: string[] }> {
  const leaves = options.leaves ?? entries.map((e) => leafHash(enc.encode(e)));
  const size = options.size ?? entries.length;
  const root = await treeRoot(memoryTree(leaves.slice(0, size)), BigInt(size));
  const note = signCheckpoint(options.signer ?? log, BigInt(size), root);
  const requests: string[] = [];
  return {
    requests,
    checkpointNote: async () => note,
    tile: async (path) => {
      requests.push(path);
      const tile = parseTilePath(path);
      if (!tile) throw new Error(`bad path ${path}`);
      const first = Number(tile.index) * TILE_WIDTH;
      if (first + tile.width > size) throw new Error(`no tile ${path}`);
      if (tile.kind === 'entries') return entryBundle(entries.slice(first, first + tile.width));
      if (tile.level !== 0) throw new Error('only level 0 is read');
      return Buffer.concat(leaves.slice(first, first + tile.width));
    },
  };
}

describe('the tlog-tiles client', () => {
  it('reads entry bundles and partial tiles, from any starting index', async () => {
    const entries = entriesOf(600);
    const source = await memoryLog(entries);
    const read: string[] = [];
    for await (const { index, entry } of tiledEntries(source, 300n, 600n)) {
      expect(index).toBe(BigInt(300 + read.length));
      read.push(new TextDecoder().decode(entry));
    }
    expect(read).toEqual(entries.slice(300));
    expect(source.requests.sort()).toEqual(['0/001', '0/002.p/88', 'entries/001', 'entries/002.p/88']);
    expect(() => parseEntryBundle(Uint8Array.of(0, 5, 1, 2))).toThrow('ends inside an entry');
  });

  it('verifies a whole log, then follows it from the saved compact range', async () => {
    const first = await followLog(await memoryLog(entriesOf(600)), verifier, undefined);
    expect([first.ok, first.read, first.checkpoint?.size]).toEqual([true, 600n, 600n]);
    const grown = await memoryLog(entriesOf(700));
    const next = await followLog(grown, verifier, first.state);
    expect([next.ok, next.read, next.state?.size]).toEqual([true, 100n, '700']);
    // Only the tiles from entry 600 on were read: 512…767.
    expect(grown.requests.sort()).toEqual(['0/002.p/188', 'entries/002.p/188']);
    const again = await followLog(grown, verifier, next.state);
    expect([again.ok, again.read]).toEqual([true, 0n]);
    // The saved range is the tree's: it rebuilds the root of 700.
    expect(Buffer.from(CompactRange.restore(next.state!.range).root()).toString('base64')).toBe(next.state!.root);
  });

  it('refuses a rollback, a fork, and history rewritten behind a newer checkpoint', async () => {
    const seen = (await followLog(await memoryLog(entriesOf(600)), verifier, undefined)).state!;
    const rollback = await followLog(await memoryLog(entriesOf(500)), verifier, seen);
    expect([rollback.ok, rollback.problems[0]?.problem]).toEqual([false, expect.stringContaining('shrank')]);
    const forked = entriesOf(600);
    forked[3] = JSON.stringify({ v: 1, event: 3, action: 'dataset.delete' });
    const fork = await followLog(await memoryLog(forked), verifier, seen);
    expect([fork.ok, fork.problems[0]?.problem]).toEqual([false, expect.stringContaining('two different roots at size 600')]);
    const rewritten = [...forked, ...entriesOf(100, 600)];
    const rewrite = await followLog(await memoryLog(rewritten), verifier, seen);
    expect([rewrite.ok, rewrite.problems[0]?.problem]).toEqual([false, expect.stringContaining('does not extend the 600 verified before')]);
    // Read afresh, the rewritten log is consistent with itself: only the monitor's memory catches it.
    expect((await followLog(await memoryLog(rewritten), verifier, undefined)).ok).toBe(true);
  });

  it('names the first entry whose leaf differs from its tile, and refuses another key', async () => {
    const entries = entriesOf(300);
    const leaves = entries.map((e) => leafHash(enc.encode(e)));
    const edited = [...entries];
    edited[257] = JSON.stringify({ v: 1, event: 257, action: 'consent.revoke' });
    const result = await followLog(await memoryLog(edited, { leaves }), verifier, undefined);
    expect([result.ok, result.problems]).toEqual([false, [{ index: '257', problem: "the entry's leaf hash differs from the log's tile" }]]);
    await expect(followLog(await memoryLog(entries, { signer: keyOf(8) }), verifier, undefined)).rejects.toThrow('no known key signed this note');
    await expect(followLog(await memoryLog(entries, { signer: keyOf(7, 'other.example/audit') }), verifier, undefined)).rejects.toThrow('no known key');
  });

  it('verifies an entries export against a checkpoint, and finds a changed line', async () => {
    const entries = entriesOf(1000);
    const note = await (await memoryLog(entries, { size: 900 })).checkpointNote();
    async function* lines(list: string[]) {
      yield* list;
    }
    const ok = await verifyEntryLines(lines(entries), note, verifier);
    expect([ok.ok, ok.checkpoint.size, ok.beyondCheckpoint]).toEqual([true, 900n, 100n]);
    const changed = [...entries];
    changed[42] = changed[42]!.replace('dataset.create', 'dataset.delete');
    expect((await verifyEntryLines(lines(changed), note, verifier)).problems).toEqual([{ problem: "the export's first 900 entries do not hash to the checkpoint's root" }]);
    expect((await verifyEntryLines(lines(entries.slice(0, 10)), note, verifier)).problems).toEqual([{ problem: "the export holds 10 entries, fewer than the checkpoint's 900" }]);
  });
});
