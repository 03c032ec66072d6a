/**
 * What an auditor or a partner runs against a running exchange, with the real binary: `cx audit
 * verify --url` through the public tiles, `--entries` with a checkpoint, `cx audit monitor`
 * following the log, `cx audit verify-proof` with a receipt or a proof's parts (sizes up to
 * 2^63 − 1), and GET /v1/audit/verify. On both engines.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inclusionProof, leafHash, treeRoot } from '../../src/audit/merkle.js';
import { freshCliEnv, runCx, startCxServe, type CliEnv, cliTimeout } from '../helpers/cli.js';
import { engineUnderTest } from '../helpers/database.js';

const cxLine = (stderr: string) => stderr.trim().split('\n');

describe(`cx audit against a running exchange on ${engineUnderTest}`, cliTimeout, () => {
  let cli: CliEnv;
  beforeAll(async () => {
    cli = await freshCliEnv();
  });
  afterAll(() => cli.cleanup());

  it('verifies through the tiles and from an export, monitors, checks proofs, and verifies for auditors', async () => {
    expect((await runCx(['partners', 'add', 'acme', '--name', 'Acme'], cli.env)).code).toBe(0);
    const key = (await runCx(['keys', 'create', '--partner', 'acme', '--name', 'etl'], cli.env)).stdout.trim();
    const auditorKey = (await runCx(['keys', 'create', '--role', 'auditor', '--name', 'audit'], cli.env)).stdout.trim();
    const server = await startCxServe({ ...cli.env, AUDIT_INTEGRATE_INTERVAL_MS: '50' });
    const as = (k: string) => ({ headers: { authorization: `Bearer ${k}` } });
    const checkpointSize = async () => Number((await (await fetch(`${server.url}/audit/checkpoint`)).text()).split('\n')[1]);
    const waitForSize = async (atLeast: number) => {
      for (let i = 0; i < 100 && (await checkpointSize().catch(() => 0)) < atLeast; i += 1) await new Promise((resolve) => setTimeout(resolve, 100));
      return checkpointSize();
    };
    const newDataset = (name: string) =>
      fetch(`${server.url}/v1/datasets`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ name }) });
    try {
      expect((await newDataset('crm')).status).toBe(201);
      const size = await waitForSize(4); // partner, two keys, dataset
      expect(size).toBeGreaterThanOrEqual(4);
      const vkey = (await (await fetch(`${server.url}/.well-known/audit-log.vkey`)).text()).trim();

      const remote = await runCx(['audit', 'verify', '--url', server.url, '--vkey', vkey], cli.env);
      expect([remote.code, remote.stderr]).toEqual([0, '']);
      expect(remote.stdout).toMatch(/^ok: \d+ entries rehashed from http:\/\/\S+, the root of its checkpoint\n$/);
      const noKey = await runCx(['audit', 'verify', '--url', server.url], cli.env);
      expect([noKey.code, cxLine(noKey.stderr)]).toEqual([1, [expect.stringMatching(/^cx: pass --vkey/)]]);

      // The monitor: a first run reads everything, the next only what is new.
      const state = join(cli.dataDir, 'monitor.json');
      const first = await runCx(['audit', 'monitor', '--url', server.url, '--vkey', vkey, '--state', state, '--once'], cli.env);
      expect([first.code, first.stderr]).toEqual([0, '']);
      const seen = Number(JSON.parse(readFileSync(state, 'utf8')).size);
      expect(first.stdout).toBe(`ok: customer-exchange.local/audit at ${seen} entries (${seen} new, rehashed)\n`);
      expect((await newDataset('billing')).status).toBe(201);
      const grown = await waitForSize(seen + 1);
      const next = await runCx(['audit', 'monitor', '--url', server.url, '--vkey', vkey, '--state', state, '--once'], cli.env);
      const [, now, added] = /^ok: customer-exchange\.local\/audit at (\d+) entries \((\d+) new, rehashed\)\n$/.exec(next.stdout) ?? [];
      expect([next.code, Number(now) >= grown, Number(added)]).toEqual([0, true, Number(now) - seen]);
      const saved = JSON.parse(readFileSync(state, 'utf8'));
      saved.root = Buffer.alloc(32, 1).toString('base64');
      writeFileSync(state, JSON.stringify(saved));
      const damaged = await runCx(['audit', 'monitor', '--url', server.url, '--vkey', vkey, '--state', state, '--once'], cli.env);
      expect([damaged.code, cxLine(damaged.stderr)]).toEqual([1, ['cx: the audit log cannot be monitored: the saved state is damaged: its compact range does not rebuild its root']]);

      // An entries export verifies against the checkpoint fetched before it; a changed line does not.
      const note = await (await fetch(`${server.url}/audit/checkpoint`)).text();
      const noteSize = note.split('\n')[1]!;
      const exported = await fetch(`${server.url}/v1/audit/entries?treeSize=${noteSize}`, as(auditorKey));
      expect([exported.status, exported.headers.get('content-type')]).toEqual([200, 'application/x-ndjson']);
      const lines = await exported.text();
      expect(lines.split('\n').filter(Boolean)).toHaveLength(Number(noteSize));
      const entriesFile = join(cli.dataDir, 'entries.ndjson');
      const noteFile = join(cli.dataDir, 'checkpoint.txt');
      writeFileSync(entriesFile, lines);
      writeFileSync(noteFile, note);
      const fromExport = await runCx(['audit', 'verify', '--entries', entriesFile, '--checkpoint', noteFile, '--vkey', vkey], cli.env);
      expect([fromExport.code, fromExport.stdout]).toEqual([0, `ok: ${noteSize} entries hash to the root of the checkpoint\n`]);
      writeFileSync(entriesFile, lines.replace('"outcome":"success"', '"outcome":"denied"'));
      const edited = await runCx(['audit', 'verify', '--entries', entriesFile, '--checkpoint', noteFile, '--vkey', vkey], cli.env);
      expect([edited.code, cxLine(edited.stderr)]).toEqual([1, [`cx: the audit log does not verify: the export's first ${noteSize} entries do not hash to the checkpoint's root`]]);
      expect((await fetch(`${server.url}/v1/audit/entries`, as(key))).status).toBe(403);

      // Proofs: the JSON of …/proof as a receipt, and its parts.
      const own = (await (await fetch(`${server.url}/v1/audit/events?action=dataset.create`, as(key))).json()) as { items: { logIndex: number }[] };
      const index = own.items[0]!.logIndex;
      const proof = (await (await fetch(`${server.url}/v1/audit/events/${index}/proof`, as(key))).json()) as { treeSize: string; leafHash: string; rootHash: string; proof: string[] };
      const receipt = join(cli.dataDir, 'receipt.json');
      writeFileSync(receipt, JSON.stringify(proof));
      const signed = await runCx(['audit', 'verify-proof', receipt, '--vkey', vkey], cli.env);
      expect([signed.code, signed.stdout.split('\n')[0]]).toEqual([0, `ok: entry ${index} of ${proof.treeSize}, signed by customer-exchange.local/audit`]);
      const unsigned = await runCx(['audit', 'verify-proof', receipt], cli.env);
      expect([unsigned.code, unsigned.stdout.split('\n')[0]]).toEqual([0, `ok: entry ${index} of ${proof.treeSize}, its checkpoint's signature not checked (pass --vkey)`]);
      const parts = ['--inclusion', '--size', proof.treeSize, '--leaf-hash', proof.leafHash, '--root', proof.rootHash, '--proof', proof.proof.join(',')];
      const holds = await runCx(['audit', 'verify-proof', '--index', String(index), ...parts], cli.env);
      expect([holds.code, holds.stdout]).toEqual([0, `ok: the leaf is at index ${index} of the tree of ${proof.treeSize}\n`]);
      const elsewhere = await runCx(['audit', 'verify-proof', '--index', String(index + 1), ...parts], cli.env);
      expect([elsewhere.code, cxLine(elsewhere.stderr)]).toEqual([1, [`cx: the proof does not hold: the leaf is not at index ${index + 1} of the tree of ${proof.treeSize} with that root`]]);

      const consistency = (await (await fetch(`${server.url}/v1/audit/consistency?from=${seen}&to=${noteSize}`, as(key))).json()) as { proof: string[]; fromRoot: string; toRoot: string };
      const consistent = ['--consistency', '--from', String(seen), '--to', noteSize, '--proof', consistency.proof.join(',')];
      const extends_ = await runCx(['audit', 'verify-proof', ...consistent, '--old-root', consistency.fromRoot, '--new-root', consistency.toRoot], cli.env);
      expect([extends_.code, extends_.stdout]).toEqual([0, `ok: the tree of ${noteSize} extends the tree of ${seen}\n`]);
      const swapped = await runCx(['audit', 'verify-proof', ...consistent, '--old-root', consistency.toRoot, '--new-root', consistency.fromRoot], cli.env);
      expect([swapped.code, cxLine(swapped.stderr)]).toEqual([1, [`cx: the proof does not hold: the tree of ${noteSize} does not extend the tree of ${seen} with those roots`]]);
      const same = await runCx(['audit', 'verify-proof', '--consistency', '--from', noteSize, '--to', noteSize, '--old-root', consistency.toRoot, '--new-root', consistency.toRoot, '--proof', ''], cli.env);
      expect([same.code, same.stdout]).toEqual([0, `ok: the tree of ${noteSize} extends the tree of ${noteSize}\n`]);

      // GET /v1/audit/verify, for auditors.
      const report = await fetch(`${server.url}/v1/audit/verify`, as(auditorKey));
      expect([report.status, await report.json()]).toEqual([200, expect.objectContaining({ ok: true, problems: [], problemCount: 0 })]);
      expect((await fetch(`${server.url}/v1/audit/verify`, as(key))).status).toBe(403);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  }, 120_000); // some twenty runs of the real binary, each starting an engine

  it('checks proofs of trees up to 2^63 − 1 entries from their parts, and refuses larger sizes', async () => {
    const size = 2n ** 63n - 1n;
    const index = size - 1n;
    // A tree too large to store: every complete subtree's hash is made up from its position. The
    // last leaf is a subtree of its own, so its proof and the root read the same made-up nodes.
    const read = async (level: number, n: bigint) => leafHash(new TextEncoder().encode(`${level}/${n}`));
    const root = await treeRoot(read, size);
    const proof = await inclusionProof(read, index, size);
    const b64 = (h: Uint8Array) => Buffer.from(h).toString('base64');
    const leaf = await read(0, index);
    const args = ['audit', 'verify-proof', '--inclusion', '--index', String(index), '--size', String(size), '--leaf-hash', b64(leaf), '--root', b64(root), '--proof', proof.map(b64).join(',')];
    const ok = await runCx(args, cli.env);
    expect([ok.code, ok.stdout]).toEqual([0, `ok: the leaf is at index ${index} of the tree of ${size}\n`]);
    const truncated = await runCx([...args.slice(0, -1), proof.slice(1).map(b64).join(',')], cli.env);
    expect(truncated.code).toBe(1);
    const tooLarge = await runCx(['audit', 'verify-proof', '--inclusion', '--index', '0', '--size', String(size + 1n), '--leaf-hash', b64(leaf), '--root', b64(root), '--proof', ''], cli.env);
    expect([tooLarge.code, cxLine(tooLarge.stderr)]).toEqual([1, ['cx: --size is a whole number from 0 to 2^63 − 1']]);
    const badHash = await runCx(['audit', 'verify-proof', '--inclusion', '--index', '0', '--size', '1', '--leaf-hash', 'abc', '--root', b64(root), '--proof', ''], cli.env);
    expect([badHash.code, cxLine(badHash.stderr)]).toEqual([1, ['cx: --leaf-hash is a base64 SHA-256 hash (44 characters)']]);
  });
});
