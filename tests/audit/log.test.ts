/**
 * The audit log as a transparency log, on both engines: checkpoints that verify with the published
 * key, a mirror rebuilt from the tiles alone, proofs, receipts that verify offline, the auditor's
 * reads, tampering found at its index, gap-free indices under concurrency, and no personal data.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startIntegrator, tileIndexPath } from '../../src/audit/log.js';
import { leafHash, memoryTree, treeRoot, verifyConsistency, verifyInclusion } from '../../src/audit/merkle.js';
import { openNote, parseCheckpoint, parseVerifierKey } from '../../src/audit/note.js';
import { recordEvent } from '../../src/audit/record-event.js';
import { verifyLog } from '../../src/audit/verify.js';
import { anyPendingEvent, selectPendingEvents } from '../../src/store/audit-log.js';
import type { Queryable } from '../../src/store/database.js';
import { authFailureTally } from '../../src/services/auth-failures.js';
import { createApiKey } from '../../src/services/create-api-key.js';
import { createTestExchange, type TestExchange } from '../helpers/app.js';
import { engineUnderTest } from '../helpers/database.js';

type Json = Record<string, unknown>;
const unb64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));
const people = [
  { id: 'p-1', given: 'Wilhelmina', family: 'Quartermaine', email: 'wilhelmina.q@example.org', phone: '+61 2 9374 4000' },
  { id: 'p-2', given: 'Bartholomew', family: 'Fitzgerald', email: 'bart.fitz@example.net', phone: '+44 20 7946 0958' },
];
const ndjson = people
  .map((p) => JSON.stringify({ standardVersion: '1.0.0', source: { recordId: p.id }, name: { given: p.given, family: p.family }, birthDate: '1971-03-04', emails: [{ address: p.email }], phones: [{ number: p.phone.replaceAll(' ', '') }] }))
  .join('\n');

function parseBundle(bytes: Uint8Array): string[] {
  const entries: string[] = [];
  for (let at = 0; at < bytes.length; ) {
    const length = (bytes[at]! << 8) | bytes[at + 1]!;
    entries.push(new TextDecoder().decode(bytes.subarray(at + 2, at + 2 + length)));
    at += 2 + length;
  }
  return entries;
}

/** An event with no personal data, in a transaction of its own: the `i`th of a stream. */
const anEvent = (ex: TestExchange, i: number) =>
  ex.db.transaction((tx) => recordEvent(tx, ex.operator, { action: 'record.erasure_lift', targetType: 'dataset', details: { requested: i, lifted: 0 } }));

describe(`the audit log on ${engineUnderTest}`, () => {
  let ex: TestExchange;
  let acme: { partner: { id: string }; key: string };
  let globex: { partner: { id: string }; key: string };
  let auditorKey: string;
  let vkey: string;

  beforeAll(async () => {
    ex = await createTestExchange();
    acme = await ex.addPartner('acme');
    globex = await ex.addPartner('globex');
    auditorKey = (await createApiKey({ ctx: ex.operator, input: { name: 'auditor', role: 'auditor' } })).key;
    const dataset = (await (await ex.request('/v1/datasets', { method: 'POST', key: acme.key, json: { name: 'crm' } })).json()) as Json;
    const upload = await ex.request(`/v1/datasets/${dataset.id}/uploads?mapping=canonical`, { method: 'POST', key: acme.key, headers: { 'content-type': 'application/x-ndjson' }, body: ndjson });
    expect(upload.status).toBe(201);
    await ex.request('/v1/datasets', { method: 'POST', key: globex.key, json: { name: 'globex-crm' } });
    await ex.integrate();
    const vkeyResponse = await ex.request('/.well-known/audit-log.vkey');
    vkey = (await vkeyResponse.text()).trim();
    expect([vkeyResponse.status, vkey]).toEqual([200, expect.stringContaining('+')]);
  });
  afterAll(() => ex.close());

  const checkpoint = async () => {
    const note = await (await ex.request('/audit/checkpoint')).text();
    return { note, ...parseCheckpoint(openNote(note, [parseVerifierKey(vkey)]).text) };
  };

  it('publishes a signed checkpoint that verifies with the published key, over every event', async () => {
    const { size, origin } = await checkpoint();
    expect(origin).toBe(ex.config.AUDIT_LOG_ORIGIN);
    const [{ n }] = (await ex.db.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_events')) as [{ n: number }];
    expect(size).toBe(BigInt(n));
    expect(vkey).toMatch(/^customer-exchange\.local\/audit\+[0-9a-f]{8}\+/);
  });

  it('can be mirrored from the tlog-tiles alone: entries and hashes rebuild the checkpointed root', async () => {
    const { size, root } = await checkpoint();
    const width = Number(size);
    expect(width).toBeLessThan(256);
    const entriesResponse = await ex.request(`/audit/tile/entries/${tileIndexPath(0n)}.p/${width}`);
    expect(entriesResponse.headers.get('cache-control')).toMatch(/immutable/);
    const entries = parseBundle(new Uint8Array(await entriesResponse.arrayBuffer()));
    expect(entries).toHaveLength(width);
    const leaves = entries.map((e) => leafHash(new TextEncoder().encode(e)));
    expect(await treeRoot(memoryTree(leaves), size)).toEqual(root);
    const hashTile = new Uint8Array(await (await ex.request(`/audit/tile/0/000.p/${width}`)).arrayBuffer());
    expect(hashTile).toEqual(new Uint8Array(Buffer.concat(leaves)));
    expect((await ex.request('/audit/tile/0/000')).status).toBe(404); // not full yet
    expect((await ex.request('/audit/tile/0/x000/000')).status).toBe(400); // not the canonical form
    expect((await ex.request('/audit/tile/0/000.p/256')).status).toBe(400);
  });

  it('proves inclusion of an event and consistency between checkpoints', async () => {
    const first = await checkpoint();
    const proof = (await (await ex.request('/v1/audit/events/1/proof', { key: auditorKey })).json()) as Json & { proof: string[]; entry: string };
    expect(proof).toMatchObject({ index: '1', treeSize: String(first.size) });
    expect(verifyInclusion(leafHash(new TextEncoder().encode(proof.entry)), 1n, first.size, proof.proof.map(unb64), first.root)).toBe(true);

    await ex.request('/v1/datasets', { method: 'POST', key: acme.key, json: { name: 'more' } });
    await ex.integrate();
    const second = await checkpoint();
    expect(second.size).toBeGreaterThan(first.size);
    const consistency = (await (await ex.request(`/v1/audit/consistency?from=${first.size}`, { key: auditorKey })).json()) as { proof: string[]; to: string };
    expect(consistency.to).toBe(String(second.size));
    expect(verifyConsistency(first.size, second.size, consistency.proof.map(unb64), first.root, second.root)).toBe(true);
    expect((await ex.request(`/v1/audit/events/${second.size + 5n}/proof`, { key: auditorKey })).status).toBe(404);
    expect((await ex.request('/v1/audit/events/-1/proof', { key: auditorKey })).status).toBe(400);
  });

  it("gives a partner a receipt for its own event that verifies offline, and 404 for another's", async () => {
    const own = (await (await ex.request(`/v1/audit/events?action=upload.complete`, { key: acme.key })).json()) as { items: (Json & { logIndex: number })[] };
    expect(own.items).toHaveLength(1);
    const index = own.items[0]!.logIndex;
    const receipt = await (await ex.request(`/v1/audit/events/${index}/receipt`, { key: acme.key })).text();
    // Offline: the receipt and the vkey, nothing else.
    const [head, note] = [receipt.slice(0, receipt.indexOf('\n\n')), receipt.slice(receipt.indexOf('\n\n') + 2)];
    const lines = head.split('\n');
    expect(lines[0]).toBe('c2sp.org/tlog-proof@v1');
    const entry = Buffer.from(lines[1]!.replace('extra ', ''), 'base64').toString('utf8');
    expect(JSON.parse(entry)).toMatchObject({ action: 'upload.complete', partner: acme.partner.id });
    const at = BigInt(lines[2]!.replace('index ', ''));
    const { size, root } = parseCheckpoint(openNote(note, [parseVerifierKey(vkey)]).text);
    expect(verifyInclusion(leafHash(new TextEncoder().encode(entry)), at, size, lines.slice(3).map(unb64), root)).toBe(true);

    expect((await ex.request(`/v1/audit/events/${index}/receipt`, { key: globex.key })).status).toBe(404);
  });

  it('lets auditors filter and page through every event; a partner sees only its own', async () => {
    const page = (await (await ex.request('/v1/audit/events?limit=2', { key: auditorKey })).json()) as { items: Json[]; nextCursor: string };
    expect(page.items).toHaveLength(2);
    const next = (await (await ex.request(`/v1/audit/events?limit=2&cursor=${page.nextCursor}`, { key: auditorKey })).json()) as { items: Json[] };
    expect(Number(next.items[0]!.id)).toBeGreaterThan(Number(page.items[1]!.id));
    const creates = (await (await ex.request('/v1/audit/events?action=dataset.create', { key: auditorKey })).json()) as { items: Json[] };
    expect(new Set(creates.items.map((e) => e.partnerId))).toEqual(new Set([acme.partner.id, globex.partner.id]));
    const globexOwn = (await (await ex.request('/v1/audit/events?action=dataset.create', { key: globex.key })).json()) as { items: Json[] };
    expect(globexOwn.items.map((e) => e.partnerId)).toEqual([globex.partner.id]);
    expect((await ex.request(`/v1/audit/events?partner=${acme.partner.id}`, { key: globex.key })).status).toBe(404);
    const reads = (await (await ex.request('/v1/audit/events?action=audit.read', { key: auditorKey })).json()) as { items: Json[] };
    expect(reads.items.length).toBeGreaterThan(0); // auditor reads are audited
  });

  it('exports NDJSON, CSV and FHIR R4 AuditEvent, and summarises', async () => {
    const ndjsonExport = await ex.request('/v1/audit/export?action=upload.complete', { key: auditorKey });
    expect(ndjsonExport.headers.get('content-type')).toMatch(/application\/x-ndjson/);
    expect((await ndjsonExport.text()).trim().split('\n').map((l) => JSON.parse(l).action)).toEqual(['upload.complete']);
    const csv = await (await ex.request('/v1/audit/export?format=csv&action=dataset.create', { key: auditorKey })).text();
    expect(csv.split('\n')[0]).toMatch(/^logIndex,id,occurredAt,action/);
    expect(csv.trim().split('\n')).toHaveLength(4);
    const fhir = (await (await ex.request('/v1/audit/export?format=fhir&action=upload.complete', { key: auditorKey })).text()).trim().split('\n').map((l) => JSON.parse(l));
    expect(fhir[0]).toMatchObject({ resourceType: 'AuditEvent', outcome: '0', action: 'C' });
    const summary = (await (await ex.request('/v1/audit/summary', { key: auditorKey })).json()) as { byAction: Record<string, number> };
    expect(summary.byAction['dataset.create']).toBe(3);
  });

  it('holds no value of an uploaded record anywhere in the log', async () => {
    await ex.integrate();
    const entries = (await ex.db.query<{ entry: string }>('SELECT entry FROM audit_log_entries')).map((r) => r.entry).join('\n');
    const events = JSON.stringify(await ex.db.query('SELECT * FROM audit_events'));
    for (const p of people) {
      for (const value of [p.id, p.given, p.family, p.email, p.phone, p.phone.replaceAll(' ', ''), '1971-03-04']) {
        expect(entries).not.toContain(value);
        expect(events).not.toContain(value);
      }
    }
  });

  it('counts failed authentications per key and client address per minute, not one event each', async () => {
    const tally = authFailureTally(ex);
    const badKey = `cx_${'A'.repeat(43)}`;
    for (let i = 0; i < 50; i += 1) tally.count('invalid_key', badKey, '203.0.113.7');
    tally.count('no_key', undefined, '203.0.113.7');
    await tally.flush();
    const events = (await ex.db.query<{ details: Json }>(`SELECT details FROM audit_events WHERE action = 'auth.fail' ORDER BY id`)).map((e) => e.details);
    expect(events).toEqual([
      expect.objectContaining({ reason: 'invalid_key', keyId: badKey.slice(0, 10), count: 50 }),
      expect.objectContaining({ reason: 'no_key', keyId: null, count: 1 }),
    ]);
    expect(JSON.stringify(events)).not.toContain('203.0.113.7');
    expect(JSON.stringify(events)).not.toContain(badKey);
  });

  it('refuses an event that does not fit its schema, failing its transaction', async () => {
    const before = (await ex.db.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_events'))[0]!.n;
    await expect(
      ex.db.transaction(async (tx) => {
        await tx.query(`INSERT INTO datasets (partner_id, name) VALUES ($1, 'should-roll-back')`, [acme.partner.id]);
        await recordEvent(tx, ex.operator, { action: 'dataset.create', targetType: 'dataset', details: { name: 'Wilhelmina' } });
      }),
    ).rejects.toThrow(/audit event dataset.create/);
    expect((await ex.db.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_events'))[0]!.n).toBe(before);
    expect(await ex.db.query(`SELECT 1 FROM datasets WHERE name = 'should-roll-back'`)).toEqual([]);
  });

  it('integrates a steady stream once an interval, and a backlog a full batch after another', async () => {
    const checkpoints = async () => (await ex.db.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_checkpoints'))[0]!.n;
    const pending = async () => (await ex.db.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_log_pending'))[0]!.n;
    const fail = (error: unknown) => {
      throw error;
    };

    // A stream: events keep arriving while the first batch is integrated. The integrator takes what
    // it finds, and then waits for its interval (a minute here), not for the next few events.
    const before = await checkpoints();
    await anEvent(ex, 0);
    const streaming = startIntegrator(ex.db, ex.auditLog, { intervalMs: 60_000, onError: fail });
    // (On the server the old loop made 14–21 checkpoints here; PGlite's one connection lets no event
    // in while a batch runs, so there both pass.)
    for (let i = 1; i <= 60; i += 1) {
      await anEvent(ex, i);
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect((await checkpoints()) - before).toBeLessThanOrEqual(1);
    expect(await pending()).toBeGreaterThan(0);
    await streaming.drain();
    expect(await pending()).toBe(0);

    // A backlog: batches of 4, at once one after the other while they come back full.
    for (let i = 0; i < 10; i += 1) await anEvent(ex, i);
    const atBacklog = await checkpoints();
    const backlog = startIntegrator(ex.db, ex.auditLog, { intervalMs: 60_000, batch: 4, onError: fail });
    for (let waited = 0; (await pending()) > 0 && waited < 10_000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await pending()).toBe(0);
    expect((await checkpoints()) - atBacklog).toBe(3);
    await backlog.drain();
  });

  it('gives 1,000 concurrent events gap-free indices while the integrator runs', async () => {
    const integrator = startIntegrator(ex.db, ex.auditLog, { intervalMs: 5, onError: (error) => { throw error; } });
    await Promise.all(Array.from({ length: 1000 }, (_, i) => anEvent(ex, i)));
    await integrator.drain();
    const [stats] = await ex.db.query<{ n: number; lo: number; hi: number; events: number; pending: number }>(
      `SELECT count(*)::int AS n, min(idx)::int AS lo, max(idx)::int AS hi, (SELECT count(*)::int FROM audit_events) AS events,
         (SELECT count(*)::int FROM audit_log_pending) AS pending FROM audit_log_entries`,
    );
    expect(stats).toMatchObject({ lo: 0, pending: 0 });
    expect(stats!.hi).toBe(stats!.n - 1);
    expect(stats!.n).toBe(stats!.events);
    expect((await checkpoint()).size).toBe(BigInt(stats!.n));
    // Past one full tile: the level-0 tile 000 is full and immutable, level 1 holds its root.
    expect(new Uint8Array(await (await ex.request('/audit/tile/0/000')).arrayBuffer())).toHaveLength(8192);
    expect(new Uint8Array(await (await ex.request('/audit/tile/1/000.p/3')).arrayBuffer())).toHaveLength(96);
    const report = await verifyLog(ex.db, [parseVerifierKey(vkey)], { pageSize: 300 });
    expect(report).toMatchObject({ ok: true, problems: [] });
    // Proofs across tiles and levels (their tiles read in one query), against the signed root.
    const { size, root } = await checkpoint();
    for (const index of [0, 255, 256, 700, Number(size) - 1]) {
      const answer = (await (await ex.request(`/v1/audit/events/${index}/proof`, { key: auditorKey })).json()) as { proof: string[]; entry: string };
      expect(verifyInclusion(leafHash(new TextEncoder().encode(answer.entry)), BigInt(index), size, answer.proof.map(unb64), root)).toBe(true);
    }
    const older = (await ex.db.query<{ size: string; root: Uint8Array }>('SELECT size::text AS size, root FROM audit_checkpoints WHERE size > 0 AND size < $1::int8 ORDER BY size DESC LIMIT 1', [String(size)]))[0]!;
    const consistent = (await (await ex.request(`/v1/audit/consistency?from=${older.size}`, { key: auditorKey })).json()) as { proof: string[] };
    expect(verifyConsistency(BigInt(older.size), size, consistent.proof.map(unb64), new Uint8Array(older.root), root)).toBe(true);
  });

  it('finds tampering done directly in SQL, at its index', async () => {
    await ex.integrate();
    const verifiers = [parseVerifierKey(vkey)];
    const tamper = async (sql: string, params: unknown[] = []) => {
      await ex.db.exec('ALTER TABLE audit_events DISABLE TRIGGER USER; ALTER TABLE audit_log_entries DISABLE TRIGGER USER');
      try {
        await ex.db.query(sql, params);
      } finally {
        await ex.db.exec('ALTER TABLE audit_events ENABLE TRIGGER USER; ALTER TABLE audit_log_entries ENABLE TRIGGER USER');
      }
    };
    // Both ways of hashing (in this thread; in a worker, as on large PGlite logs) report the same.
    const verify = async () => {
      const inThread = await verifyLog(ex.db, verifiers, { worker: false, pageSize: 4 });
      expect(await verifyLog(ex.db, verifiers, { worker: true })).toEqual(inThread);
      return inThread;
    };
    const [target] = await ex.db.query<{ idx: string; event_id: number }>(`SELECT idx::text, event_id::int AS event_id FROM audit_log_entries WHERE idx = 3`);

    await tamper(`UPDATE audit_events SET outcome = 'denied' WHERE id = $1`, [target!.event_id]);
    let report = await verify();
    expect(report.ok).toBe(false);
    expect(report.problems).toContainEqual(expect.objectContaining({ index: '3', problem: expect.stringMatching(/edited/) }));
    await tamper(`UPDATE audit_events SET outcome = 'success' WHERE id = $1`, [target!.event_id]);
    expect((await verify()).ok).toBe(true);

    // Rewriting the entry to match breaks the tree instead.
    await tamper(`UPDATE audit_log_entries SET entry = replace(entry, '"outcome":"success"', '"outcome":"denied"') WHERE idx = 3`);
    report = await verify();
    expect(report.problems).toContainEqual(expect.objectContaining({ index: '3', problem: expect.stringMatching(/tile/) }));

    // Reordering two entries (their bytes swapped).
    await tamper(`UPDATE audit_log_entries SET entry = replace(entry, '"outcome":"denied"', '"outcome":"success"') WHERE idx = 3`);
    await tamper(`UPDATE audit_log_entries e SET entry = o.entry FROM audit_log_entries o WHERE (e.idx, o.idx) IN ((5, 6), (6, 5))`);
    report = await verify();
    expect(report.problems[0]).toMatchObject({ index: '5' });
    expect(report.problems).toContainEqual(expect.objectContaining({ index: '5', problem: expect.stringMatching(/tile/) }));
    expect(report.problems).toContainEqual(expect.objectContaining({ index: '6', problem: expect.stringMatching(/tile/) }));

    // Inserting an event behind the log's back.
    await tamper(`INSERT INTO audit_events (actor_type, action, target_type, outcome) VALUES ('system', 'dataset.create', 'dataset', 'success')`);
    report = await verify();
    expect(report.problems).toContainEqual(expect.objectContaining({ problem: expect.stringMatching(/neither in the log nor queued/) }));

    // Deleting an event from the table.
    const [last] = await ex.db.query<{ event_id: number; idx: string }>('SELECT event_id::int AS event_id, idx::text FROM audit_log_entries ORDER BY idx DESC LIMIT 1');
    await tamper('DELETE FROM audit_events WHERE id = $1', [last!.event_id]);
    report = await verify();
    expect(report.problems).toContainEqual(expect.objectContaining({ index: last!.idx, problem: expect.stringMatching(/gone/) }));

    // Deleting an entry: the gap is named, and the check goes on past it to the end of the log.
    await tamper('DELETE FROM audit_log_entries WHERE idx = 1');
    report = await verify();
    expect(report.problems).toContainEqual({ index: '1', problem: 'entries 1…1 are missing' });
    expect(report.problems).toContainEqual(expect.objectContaining({ index: last!.idx, problem: expect.stringMatching(/gone/) }));
  });
});

describe(`the audit queue's reads on ${engineUnderTest}`, () => {
  let ex: TestExchange;
  beforeAll(async () => {
    ex = await createTestExchange();
  });
  afterAll(() => ex.close());

  it('find the queued events by key, however large the planner thinks the queue is', async () => {
    // A backlog of 5,000 events, analysed while queued, then integrated: the queue's statistics
    // still say 5,000 rows, and its deleted rows wait for a vacuum (CI's server runs none).
    await ex.db.query(
      `WITH written AS (INSERT INTO audit_events (actor_type, action, target_type, outcome, details)
         SELECT 'system', 'record.erasure_lift', 'dataset', 'success', jsonb_build_object('requested', g, 'lifted', 0) FROM generate_series(1, 5000) g RETURNING id)
       INSERT INTO audit_log_pending (event_id) SELECT id FROM written`,
    );
    await ex.db.exec('ANALYZE audit_log_pending; ANALYZE audit_events');
    await ex.integrate();
    for (let i = 0; i < 3; i += 1) await anEvent(ex, i);

    // Each read's plan, from the statement it sends.
    const plans: string[] = [];
    const explaining: Queryable = {
      ...ex.db,
      query: async <T,>(text: string, params?: readonly unknown[]) => {
        const plan = await ex.db.query<{ 'QUERY PLAN': string }>(`EXPLAIN (COSTS OFF) ${text}`, params);
        plans.push(plan.map((row) => row['QUERY PLAN']).join('\n'));
        return ex.db.query<T>(text, params);
      },
    };
    const pending = await selectPendingEvents(explaining, 1024);
    expect(pending.map((e) => e.details)).toEqual([0, 1, 2].map((i) => ({ requested: i, lifted: 0 })));
    expect(await anyPendingEvent(explaining)).toBe(true);
    const [events, any] = plans;
    // No walk of every event ever written, nor of every row the queue ever held.
    expect(events).not.toMatch(/Merge Join|Hash Join|Seq Scan on audit_events/);
    expect(events).toMatch(/Index Scan using audit_events_pkey/);
    expect(any).not.toMatch(/Seq Scan/);
  });
});
