/**
 * Partners witness the log (c2sp.org/tlog-witness): the exchange asks after each checkpoint,
 * a witness cosigns only a checkpoint that extends the one it saw, and refuses a fork; the
 * checkpoint and receipts then carry the cosignatures. On both engines.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cosignLatest, signCheckpoint, verifyReceipt } from '../../src/audit/log.js';
import { checkpointText, ed25519PrivateKey, noteSigner, openNote, parseVerifierKey } from '../../src/audit/note.js';
import { createWitness, parseWitnessList, type WitnessPeer } from '../../src/audit/witness.js';
import { createTestExchange, type TestExchange } from '../helpers/app.js';
import { engineUnderTest } from '../helpers/database.js';

describe(`witnesses on ${engineUnderTest}`, () => {
  let ex: TestExchange;
  let dir: string;
  let server: Server;
  let url: string;
  let witness: ReturnType<typeof createWitness>;
  let peers: WitnessPeer[];
  const errors: unknown[] = [];

  beforeAll(async () => {
    ex = await createTestExchange();
    dir = mkdtempSync(join(tmpdir(), 'cx-witness-'));
    witness = createWitness({ name: 'witness.acme.example', privateKey: ed25519PrivateKey(new Uint8Array(32).fill(7)), logs: [{ vkey: ex.auditLog.signer.vkey }], statePath: join(dir, 'state.json') });
    server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => (body += chunk));
      request.on('end', () => {
        const answer = witness.addCheckpoint(body);
        response.writeHead(answer.status, { 'content-type': answer.contentType }).end(answer.body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    peers = parseWitnessList(`${url}|${witness.vkey}`);
  });
  afterAll(async () => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
    await ex.close();
  });

  const post = async (body: string) => {
    const response = await fetch(`${url}/add-checkpoint`, { method: 'POST', body });
    return { status: response.status, type: response.headers.get('content-type'), body: await response.text() };
  };

  it('cosigns each new checkpoint; the checkpoint and receipts carry the cosignature', async () => {
    const acme = await ex.addPartner('acme');
    await ex.integrate();
    expect(await cosignLatest(ex.db, peers, (e) => errors.push(e))).toBe(1);
    await ex.request('/v1/datasets', { method: 'POST', key: acme.key, json: { name: 'crm' } });
    await ex.integrate();
    expect(await cosignLatest(ex.db, peers, (e) => errors.push(e))).toBe(1); // with a consistency proof this time
    expect(errors).toEqual([]);
    const note = await (await ex.request('/audit/checkpoint')).text();
    const verifiers = [parseVerifierKey(ex.auditLog.signer.vkey), parseVerifierKey(witness.vkey)];
    expect(openNote(note, verifiers).verifiedBy).toEqual([ex.config.AUDIT_LOG_ORIGIN, 'witness.acme.example']);
    const own = (await (await ex.request('/v1/audit/events?action=dataset.create', { key: acme.key })).json()) as { items: { logIndex: number }[] };
    const receipt = await (await ex.request(`/v1/audit/events/${own.items[0]!.logIndex}/receipt`, { key: acme.key })).text();
    expect(verifyReceipt(receipt, verifiers[0], [verifiers[1]!]).cosignedBy).toEqual(['witness.acme.example']);
  });

  it('a restarted exchange learns the size the witness holds (409) and carries on', async () => {
    await ex.request('/v1/datasets', { method: 'POST', key: (await ex.addPartner('globex')).key, json: { name: 'g' } });
    await ex.integrate();
    const fresh = parseWitnessList(`${url}|${witness.vkey}`); // knows nothing: old 0
    expect(await cosignLatest(ex.db, fresh, (e) => errors.push(e))).toBe(1);
    expect(errors).toEqual([]);
  });

  it('refuses a fork, a bad proof, an unknown log and a forged signature', async () => {
    const { size, root } = (await ex.db.query<{ size: string; root: Uint8Array }>('SELECT size::text AS size, root FROM audit_checkpoints ORDER BY size DESC LIMIT 1'))[0]!;
    const current = BigInt(size);
    // The operator signs another tree of the same size: a fork.
    const forked = signCheckpoint(ex.auditLog, current, new Uint8Array(32).fill(9));
    const fork = await post(`old ${current}\n\n${forked}`);
    expect([fork.status, fork.type, fork.body]).toEqual([409, 'text/x.tlog.size', `${current}\n`]);
    // A larger tree that does not extend the cosigned one.
    const larger = signCheckpoint(ex.auditLog, current + 3n, new Uint8Array(32).fill(5));
    expect((await post(`old ${current}\n${Buffer.alloc(32, 1).toString('base64')}\n\n${larger}`)).status).toBe(422);
    // A stale old size is answered with the size the witness holds.
    expect(await post(`old 1\n\n${larger}`)).toMatchObject({ status: 409, body: `${current}\n` });
    const stranger = noteSigner('stranger.example/log', ed25519PrivateKey(new Uint8Array(32).fill(4)));
    const unknown = `${checkpointText({ origin: 'stranger.example/log', size: 1n, root: new Uint8Array(root) })}`;
    expect((await post(`old 0\n\n${unknown}\n\u2014 stranger.example/log ${Buffer.concat([stranger.keyId, Buffer.alloc(64)]).toString('base64')}\n`)).status).toBe(404);
    const impostor = noteSigner(ex.config.AUDIT_LOG_ORIGIN, ed25519PrivateKey(new Uint8Array(32).fill(6)));
    const notTheLog = `${checkpointText({ origin: ex.config.AUDIT_LOG_ORIGIN, size: current + 1n, root: new Uint8Array(root) })}`;
    expect((await post(`old ${current}\n\n${notTheLog}\n\u2014 ${impostor.name} ${Buffer.concat([impostor.keyId, impostor.sign(new TextEncoder().encode(notTheLog))]).toString('base64')}\n`)).status).toBe(403);
    // Nothing of that moved the witness.
    expect(await cosignLatest(ex.db, parseWitnessList(`${url}|${witness.vkey}`), (e) => errors.push(e))).toBe(1);
  });
});
