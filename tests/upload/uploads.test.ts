import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MATCH_KEYS_VERSION } from '../../src/match/features.js';
import { selectAuditEvents } from '../../src/store/audit-events.js';
import { rekeyStaleRecords } from '../../src/store/records.js';
import { createTestExchange, type TestExchange } from '../helpers/app.js';
import { engineUnderTest } from '../helpers/database.js';
import { sharedData } from '../helpers/mapping.js';

type Json = Record<string, unknown>;
const febrl1 = readFileSync(`${sharedData}febrl/dataset1.csv`, 'utf8');
const header = 'rec_id, given_name, surname, street_number, address_1, address_2, suburb, postcode, state, date_of_birth, soc_sec_id';
const row = (id: string, given: string, dob = '19800102') => `${id}, ${given}, smith, 1, main street, , sydney, 2000, nsw, ${dob}, 1234567`;

describe(`uploads on ${engineUnderTest}`, () => {
  let ex: TestExchange;
  let acme: { key: string; partner: { id: string } };
  let globex: { key: string };
  let datasetId: string;

  const upload = (
    body: RequestInit['body'],
    options: { key?: string; type?: string; query?: string; idempotencyKey?: string; dataset?: string; headers?: Record<string, string> } = {},
  ) =>
    ex.request(`/v1/datasets/${options.dataset ?? datasetId}/uploads${options.query ?? ''}`, {
      method: 'POST',
      key: options.key ?? acme.key,
      headers: { 'content-type': options.type ?? 'text/csv', ...(options.idempotencyKey ? { 'idempotency-key': options.idempotencyKey } : {}), ...options.headers },
      body,
    });
  const countRecords = async (dataset = datasetId) =>
    (await ex.db.query<{ n: number }>('SELECT count(*)::int AS n FROM customer_records WHERE dataset_id = $1', [dataset]))[0]!.n;

  beforeAll(async () => {
    ex = await createTestExchange({ UPLOAD_LIMIT_BYTES: String(2 * 1024 * 1024) });
    acme = await ex.addPartner('acme');
    globex = await ex.addPartner('globex');
    const created = await ex.request('/v1/datasets', { method: 'POST', key: acme.key, json: { name: 'febrl', defaultMapping: 'febrl' } });
    expect(created.status).toBe(201);
    datasetId = ((await created.json()) as Json).id as string;
    expect(created.headers.get('location')).toBe(`/v1/datasets/${datasetId}`);
  });
  afterAll(() => ex.close());

  describe('datasets', () => {
    it('are created, listed and read by their partner only', async () => {
      const dup = await ex.request('/v1/datasets', { method: 'POST', key: acme.key, json: { name: 'febrl' } });
      expect(dup.status).toBe(409);
      const bad = await ex.request('/v1/datasets', { method: 'POST', key: acme.key, json: { name: 'x', defaultMapping: 'nope' } });
      expect(bad.status).toBe(400);
      const listed = (await (await ex.request('/v1/datasets', { key: acme.key })).json()) as { items: Json[] };
      expect(listed.items.map((d) => d.name)).toEqual(['febrl']);
      expect(((await (await ex.request('/v1/datasets', { key: globex.key })).json()) as { items: Json[] }).items).toEqual([]);
      expect((await ex.request(`/v1/datasets/${datasetId}`, { key: acme.key })).status).toBe(200);
      expect((await ex.request('/v1/datasets', { key: ex.adminKey })).status).toBe(403);
    });
  });

  describe('a successful upload', () => {
    it('stores every FEBRL record, with its audit event in the same transaction', async () => {
      const response = await upload(febrl1);
      expect(response.status).toBe(201);
      const body = (await response.json()) as Json;
      expect(body).toMatchObject({ status: 'completed', mapping: 'febrl', accepted: 1000, rejected: 0, inserted: 1000, updated: 0, unchanged: 0 });
      expect(response.headers.get('location')).toBe(`/v1/datasets/${datasetId}/uploads/${body.id}`);
      expect(await countRecords()).toBe(1000);
      const dataset = (await (await ex.request(`/v1/datasets/${datasetId}`, { key: acme.key })).json()) as Json;
      expect(dataset.records).toBe(1000);
      const [event] = (await selectAuditEvents(ex.db, { action: 'upload.complete' })).filter((e) => e.targetId === body.id);
      expect(event).toMatchObject({ partnerId: acme.partner.id, outcome: 'success', details: { inserted: 1000, rows: 1000 } });
      // The quality report comes back with the upload.
      const fetched = (await (await ex.request(`/v1/datasets/${datasetId}/uploads/${body.id}`, { key: acme.key })).json()) as { report: Json };
      // FEBRL's three impossible birth dates keep their year and month, and the report says so.
      expect(fetched.report).toMatchObject({ rows: 1000, accepted: 1000, fields: { birthDate: { invalid: 0 } } });
      expect((fetched.report.issues as { severity: string; field: string }[]).filter((i) => i.severity === 'partial' && i.field === 'birthDate')).toHaveLength(3);
      const birthDate = (fetched.report.fields as Record<string, { filled: number; empty: number; invalid: number }>).birthDate!;
      expect(birthDate.filled + birthDate.empty + birthDate.invalid).toBe(1000);
    });

    it('stores the columns matching needs', async () => {
      const [row122] = await ex.db.query<Json>(
        `SELECT full_name_key, family_phonetic, birth_date, birth_year, postcode_key FROM customer_records WHERE source_id = 'rec-122-org'`,
      );
      expect(row122).toEqual({ full_name_key: 'lachlan berry', family_phonetic: 'PR', birth_date: '1999-02-19', birth_year: 1999, postcode_key: '4814' });
    });

    it('recomputes match keys stored by an older extractor, and only those', async () => {
      const [{ fresh }] = (await ex.db.query<{ fresh: number }>(`SELECT count(*)::int AS fresh FROM customer_records WHERE keys_version = $1`, [MATCH_KEYS_VERSION])) as [{ fresh: number }];
      expect(fresh).toBe(await countRecords());
      expect(await rekeyStaleRecords(ex.db)).toBe(0);
      // As the earlier extractor stored them: wrong phonetic codes, version 1 (in batches of 300).
      await ex.db.query(`UPDATE customer_records SET family_phonetic = 'X', given_phonetic = NULL, keys_version = 1 WHERE dataset_id = $1`, [datasetId]);
      await ex.db.query(`UPDATE customer_records SET family_phonetic = 'X', keys_version = 1, record = NULL, full_name_key = NULL WHERE source_id = 'rec-1-org'`);
      expect(await rekeyStaleRecords(ex.db, 300)).toBe(999);
      const [row122] = await ex.db.query<Json>(`SELECT family_phonetic, given_phonetic, keys_version FROM customer_records WHERE source_id = 'rec-122-org'`);
      expect(row122).toEqual({ family_phonetic: 'PR', given_phonetic: 'LKLN', keys_version: MATCH_KEYS_VERSION });
      const [erased] = await ex.db.query<Json>(`SELECT family_phonetic, keys_version FROM customer_records WHERE source_id = 'rec-1-org'`);
      expect(erased).toEqual({ family_phonetic: 'X', keys_version: 1 });
      await ex.db.query(`DELETE FROM customer_records WHERE source_id = 'rec-1-org'`);
    });
  });

  describe('history', () => {
    it('keeps the old version when a record changes, and serves it asOf', async () => {
      const first = (await (await upload(`${header}\n${row('h-1', 'anna')}\n${row('h-2', 'bob')}\n`)).json()) as Json;
      expect(first).toMatchObject({ inserted: 2 });
      await new Promise((resolve) => setTimeout(resolve, 20));
      const second = (await (await upload(`${header}\n${row('h-1', 'anne')}\n${row('h-2', 'bob')}\n${row('h-3', 'cy')}\n`)).json()) as Json;
      expect(second).toMatchObject({ inserted: 1, updated: 1, unchanged: 1 });

      const now = (await (await ex.request(`/v1/datasets/${datasetId}/records/h-1`, { key: acme.key })).json()) as Json;
      expect(now).toMatchObject({ version: 2, validTo: null, record: { name: { given: 'Anne' } } });
      const asOf = encodeURIComponent(String(first.createdAt));
      const before = (await (await ex.request(`/v1/datasets/${datasetId}/records/h-1?asOf=${asOf}`, { key: acme.key })).json()) as Json;
      expect(before).toMatchObject({ version: 1, record: { name: { given: 'Anna' } } });
      expect(before.validTo).not.toBeNull();
      const tooEarly = await ex.request(`/v1/datasets/${datasetId}/records/h-1?asOf=2000-01-01T00:00:00Z`, { key: acme.key });
      expect(tooEarly.status).toBe(404);
      const badAsOf = await ex.request(`/v1/datasets/${datasetId}/records/h-1?asOf=yesterday`, { key: acme.key });
      expect(badAsOf.status).toBe(400);
    });

    it('tags each version (ETag) and answers If-None-Match with 304 until the record changes', async () => {
      expect((await upload(`${header}\n${row('tag-1', 'bob')}\n`)).status).toBe(201);
      const path = `/v1/datasets/${datasetId}/records/tag-1`;
      const first = await ex.request(path, { key: acme.key });
      const etag = first.headers.get('etag')!;
      expect(etag).toMatch(/^"v\d+-[\w-]{16}"$/);
      const unchanged = await ex.request(path, { key: acme.key, headers: { 'if-none-match': etag } });
      expect([unchanged.status, await unchanged.text(), unchanged.headers.get('etag')]).toEqual([304, '', etag]);
      // Weak comparison, in a list, and *; another tag is a full answer.
      expect((await ex.request(path, { key: acme.key, headers: { 'if-none-match': `"x", W/${etag}` } })).status).toBe(304);
      expect((await ex.request(path, { key: acme.key, headers: { 'if-none-match': '*' } })).status).toBe(304);
      expect((await ex.request(path, { key: acme.key, headers: { 'if-none-match': '"v1-elsewhere"' } })).status).toBe(200);
      await upload(`${header}\n${row('tag-1', 'bobby')}\n`);
      const changed = await ex.request(path, { key: acme.key, headers: { 'if-none-match': etag } });
      expect(changed.status).toBe(200);
      expect(changed.headers.get('etag')).not.toBe(etag);
      expect(((await changed.json()) as Json).record).toMatchObject({ name: { given: 'Bobby' } });
      // An old version keeps its tag; another partner learns nothing from a tag.
      const older = await ex.request(`${path}?asOf=${encodeURIComponent(new Date(Date.now() - 1).toISOString())}`, { key: acme.key });
      expect(older.status).toBe(200);
      expect((await ex.request(path, { key: globex.key, headers: { 'if-none-match': '*' } })).status).toBe(404);
    });

    it('are mapped in a worker thread when large or of unknown size, here when small, to the same records', async () => {
      const created = await ex.request('/v1/datasets', { method: 'POST', key: acme.key, json: { name: 'threads', defaultMapping: 'febrl' } });
      const threads = ((await created.json()) as Json).id as string;
      const csv = `${header}\n${row('w-1', 'wim')}\n${row('w-1', 'wim', '19800103')}\n${row('w-2', 'wes')}\n`;
      const started = () => ex.logs.filter((l) => l.msg === 'upload started' && l.datasetId === threads).at(-1);
      const small = await upload(csv, { dataset: threads, headers: { 'content-length': String(Buffer.byteLength(csv)) } });
      expect(small.status).toBe(201);
      expect(started()).toMatchObject({ inWorker: false, declaredBytes: Buffer.byteLength(csv) });
      const here = await ex.db.query<Json>('SELECT source_id, version, record FROM customer_records WHERE dataset_id = $1 ORDER BY source_id', [threads]);
      await ex.db.query('DELETE FROM customer_records WHERE dataset_id = $1', [threads]);
      const streamed = await upload(csv, { dataset: threads });
      expect(streamed.status).toBe(201);
      expect(started()).toMatchObject({ inWorker: true, declaredBytes: null });
      expect(await streamed.json()).toMatchObject({ accepted: 3, inserted: 2 });
      const inWorker = await ex.db.query<Json>('SELECT source_id, version, record FROM customer_records WHERE dataset_id = $1 ORDER BY source_id', [threads]);
      expect(inWorker).toEqual(here);
      expect(here).toHaveLength(2);
    });

    it('merges rows that repeat a source id within one upload', async () => {
      const csv = `${header}\n${row('m-1', 'dora', '19700101')}\nm-1, dora, smith, 1, main street, , sydney, 2000, nsw, , 7654321\n`;
      const body = (await (await upload(csv)).json()) as { report: { duplicates: Json } } & Json;
      expect(body).toMatchObject({ accepted: 2, inserted: 1 });
      expect(body.report.duplicates).toMatchObject({ sameSourceId: 1 });
      const record = (await (await ex.request(`/v1/datasets/${datasetId}/records/m-1`, { key: acme.key })).json()) as { record: Json };
      expect(record.record).toMatchObject({ birthDate: '1970-01-01' });
      expect((record.record.identifiers as Json[]).map((i) => i.value)).toEqual(['1234567', '7654321']);
    });

    it('merges a repeat into a record the upload left unchanged as a new version, across batches', async () => {
      expect((await upload(`${header}\n${row('m-2', 'dora', '19700101')}\n`)).status).toBe(201);
      // The repeat comes more than a staging batch (5,000 rows) after the first row.
      const filler = Array.from({ length: 6000 }, (_, i) => row(`fl-f-${i}`, 'fay'));
      const csv = `${header}\n${row('m-2', 'dora', '19700101')}\n${filler.join('\n')}\nm-2, dora, smith, 1, main street, , sydney, 2000, nsw, , 7654321\n`;
      const response = await upload(csv);
      expect(response.status).toBe(201);
      expect(await response.json()).toMatchObject({ accepted: 6002, inserted: 6000, updated: 1, unchanged: 0 });
      const versions = await ex.db.query<{ version: number; current: boolean; identifiers: unknown }>(
        `SELECT version, valid_to IS NULL AS current, record->'identifiers' AS identifiers FROM customer_records WHERE dataset_id = $1 AND source_id = 'm-2' ORDER BY version`,
        [datasetId],
      );
      expect(versions.map((v) => [v.version, v.current, (v.identifiers as Json[]).length])).toEqual([[1, false, 1], [2, true, 2]]);
    });
  });

  describe('idempotent retries (draft-ietf-httpapi-idempotency-key)', () => {
    it('the same request again returns the first upload instead of loading twice', async () => {
      const csv = `${header}\n${row('i-1', 'ida')}\n`;
      const first = await upload(csv, { idempotencyKey: 'retry-1' });
      expect(first.status).toBe(201);
      const again = await upload(csv, { idempotencyKey: 'retry-1' });
      expect(again.status).toBe(200);
      expect(((await again.json()) as Json).id).toBe(((await first.json()) as Json).id);
      const versions = await ex.db.query(`SELECT version FROM customer_records WHERE source_id = 'i-1'`);
      expect(versions).toHaveLength(1);
    });

    it('the same key with another body, mapping or strictness: 422, nothing loaded', async () => {
      const csv = `${header}\n${row('i-3', 'ines')}\n`;
      expect((await upload(csv, { idempotencyKey: 'retry-2' })).status).toBe(201);
      for (const retry of [
        () => upload(csv.replace('ines', 'inez'), { idempotencyKey: 'retry-2' }),
        () => upload(csv, { idempotencyKey: 'retry-2', query: '?strict=true' }),
      ]) {
        const response = await retry();
        expect(response.status).toBe(422);
        expect(((await response.json()) as Json).reason).toBe('idempotency_key_reused');
      }
      const [stored] = await ex.db.query<{ record: { name: { given: string } } }>(`SELECT record FROM customer_records WHERE source_id = 'i-3'`);
      expect(stored!.record.name.given).toBe('Ines');
    });

    it('sent twice at once: one loads, the other is told at once that it is still running (409)', async () => {
      const csv = `${header}\n${row('i-2', 'ivy')}\n`;
      const [a, b] = await Promise.all([upload(csv, { idempotencyKey: 'race-1' }), upload(csv, { idempotencyKey: 'race-1' })]);
      expect([a.status, b.status].sort()).toEqual([201, 409]);
      const conflict = a.status === 409 ? a : b;
      expect(((await conflict.json()) as Json).reason).toBe('idempotency_key_in_use');
      expect(await ex.db.query(`SELECT version FROM customer_records WHERE source_id = 'i-2'`)).toHaveLength(1);
      // Once it has finished, the retry gets the upload.
      expect((await upload(csv, { idempotencyKey: 'race-1' })).status).toBe(200);
    });

    it('a key expires after IDEMPOTENCY_KEY_TTL_SECONDS and may then name a new upload', async () => {
      const csv = `${header}\n${row('i-4', 'iris')}\n`;
      const first = (await (await upload(csv, { idempotencyKey: 'expiring-1' })).json()) as Json;
      await ex.db.query(`UPDATE uploads SET created_at = now() - interval '25 hours' WHERE id = $1`, [first.id]);
      const later = await upload(csv.replace('iris', 'irene'), { idempotencyKey: 'expiring-1' });
      expect(later.status).toBe(201);
      expect(((await later.json()) as Json).id).not.toBe(first.id);
    });
  });

  describe('rejected uploads store nothing', () => {
    it('strict mode stops at the first error with 422, and the upload keeps its reason', async () => {
      const before = await countRecords();
      const response = await upload(`${header}\n${row('s-1', 'sam')}\n${row('s-2', 'sue', '19801301')}\n`, { query: '?strict=true' });
      expect(response.status).toBe(422);
      const problem = (await response.json()) as { detail: string };
      expect(problem.detail).toMatch(/Strict upload stopped at the first error, nothing was stored: row 2: birthDate/);
      expect(await countRecords()).toBe(before);
      const uploadId = problem.detail.match(/upload ([0-9a-f-]{36})/)![1];
      const stored = (await (await ex.request(`/v1/datasets/${datasetId}/uploads/${uploadId}`, { key: acme.key })).json()) as Json;
      expect(stored).toMatchObject({ status: 'rejected', inserted: 0, reason: expect.stringMatching(/^strict mode/) });
      const [event] = (await selectAuditEvents(ex.db, { action: 'upload.reject' })).filter((e) => e.targetId === uploadId);
      expect(event).toMatchObject({ outcome: 'failure' });
    });

    it('too many rejected rows: 422, nothing stored, the rejected rows downloadable with reasons', async () => {
      const before = await countRecords();
      const csv = `${header}\n${row('r-1', 'ok')}\n, nobody, x, 1, s, , s, 2000, nsw, 19800101, 1\n, nobody, y, 1, s, , s, 2000, nsw, 19800101, 1\n`;
      const response = await upload(csv);
      expect(response.status).toBe(422);
      const problem = (await response.json()) as { detail: string };
      expect(problem.detail).toMatch(/^2 of 3 rows rejected, more than the limit of 10%; nothing was stored/);
      expect(await countRecords()).toBe(before);
      const uploadId = problem.detail.match(/uploads\/([0-9a-f-]{36})/)![1];
      const rejected = await ex.request(`/v1/datasets/${datasetId}/uploads/${uploadId}/rejected.csv`, { key: acme.key });
      expect(rejected.headers.get('content-type')).toContain('text/csv');
      expect((await rejected.text()).trim().split('\n')).toEqual([
        'row,source_id,column,value,field,reason',
        '2,,rec_id,,source.recordId,required but empty',
        '3,,rec_id,,source.recordId,required but empty',
      ]);
    });

    it.each([
      ['a wrong content type', { type: 'text/plain' }, 415, /text\/csv, application\/x-ndjson or application\/json/],
      ['a mapping that does not fit the file', { query: '?mapping=salesforce-contacts' }, 400, /does not fit this file/],
      ['an unknown mapping', { query: '?mapping=nope' }, 400, /no mapping "nope"/],
      ['a mapping for another format', { type: 'application/x-ndjson', query: '?mapping=febrl' }, 415, /reads csv/],
    ] as const)('%s', async (_name, options, status, detail) => {
      const before = await countRecords();
      const response = await upload(`${header}\n${row('w-1', 'wes')}\n`, options);
      expect(response.status).toBe(status);
      expect(response.headers.get('content-type')).toBe('application/problem+json');
      expect(((await response.json()) as { detail: string }).detail).toMatch(detail);
      expect(await countRecords()).toBe(before);
    });

    it('a body over the upload limit: 413', async () => {
      const before = await countRecords();
      const big = `${header}\n${Array.from({ length: 30_000 }, (_, i) => row(`big-${i}`, 'bigname')).join('\n')}\n`;
      expect(big.length).toBeGreaterThan(2 * 1024 * 1024);
      const response = await upload(big);
      expect(response.status).toBe(413);
      expect(await countRecords()).toBe(before);
    });

    it('a first load that fails part-way, streamed or at its end, stores nothing, and the dataset takes the next upload', async () => {
      const created = await ex.request('/v1/datasets', { method: 'POST', key: acme.key, json: { name: 'first load', defaultMapping: 'febrl' } });
      const fresh = ((await created.json()) as Json).id as string;
      // Thousands of rows have gone into the open COPY before the body passes the limit.
      const big = `${header}\n${Array.from({ length: 30_000 }, (_, i) => row(`fresh-f-${i}`, 'fay')).join('\n')}\n`;
      expect((await upload(big, { dataset: fresh })).status).toBe(413);
      expect(await countRecords(fresh)).toBe(0);
      // All rows are in when the rejected share is counted.
      const invalid = ', nobody, x, 1, s, , s, 2000, nsw, 19800101, 1';
      const mostlyGood = `${header}\n${Array.from({ length: 1500 }, (_, i) => row(`fresh-g-${i}`, 'gus')).join('\n')}\n${Array.from({ length: 300 }, () => invalid).join('\n')}\n`;
      expect((await upload(mostlyGood, { dataset: fresh })).status).toBe(422);
      expect(await countRecords(fresh)).toBe(0);
      const good = await upload(`${header}\n${Array.from({ length: 2500 }, (_, i) => row(`fresh-h-${i}`, 'hal')).join('\n')}\n`, { dataset: fresh });
      expect(good.status).toBe(201);
      expect(await good.json()).toMatchObject({ inserted: 2500, updated: 0, unchanged: 0 });
      expect(await countRecords(fresh)).toBe(2500);
      const [version] = await ex.db.query<{ version: number; valid_to: unknown; matches: boolean }>(
        `SELECT version, valid_to, valid_from = (SELECT created_at FROM uploads WHERE dataset_id = $1 AND status = 'completed') AS matches
         FROM customer_records WHERE dataset_id = $1 AND source_id = 'fresh-h-7'`,
        [fresh],
      );
      expect(version).toEqual({ version: 1, valid_to: null, matches: true });
    });

    it('a truncated body: 400, nothing stored', async () => {
      const before = await countRecords();
      const encoder = new TextEncoder();
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(encoder.encode(`${header}\n${row('t-1', 'tom')}\n`));
          controller.error(new Error('aborted'));
        },
      });
      const response = await ex.app.request(`/v1/datasets/${datasetId}/uploads`, {
        method: 'POST',
        headers: { authorization: `Bearer ${acme.key}`, 'content-type': 'text/csv' },
        body,
        duplex: 'half',
      } as RequestInit);
      expect(response.status).toBe(400);
      expect(((await response.json()) as { detail: string }).detail).toMatch(/ended before it was complete/);
      expect(await countRecords()).toBe(before);
    });
  });

  describe('canonical NDJSON', () => {
    it('is validated and stored without a mapping', async () => {
      const lines = [
        { standardVersion: '1.0.0', source: { recordId: 'c-1' }, name: { full: '张伟', family: '张', given: '伟' }, birthDate: '1980-01-02' },
        { standardVersion: '1.0.0', source: { recordId: 'c-2' }, name: { given: 'Ann' } },
      ].map((r) => JSON.stringify(r));
      const response = await upload(`${lines.join('\n')}\n`, { type: 'application/x-ndjson', query: '?mapping=canonical' });
      expect(response.status).toBe(201);
      expect(await response.json()).toMatchObject({ mapping: 'canonical', inserted: 2 });
      const [row1] = await ex.db.query<Json>(`SELECT full_name_key, family_phonetic FROM customer_records WHERE source_id = 'c-1'`);
      expect(row1).toEqual({ full_name_key: '张伟', family_phonetic: '张' });
    });

    it('comes as a JSON array too, and invalid records are rejected with their field', async () => {
      const records = [
        { standardVersion: '1.0.0', source: { recordId: 'j-1' }, name: { given: 'Jo' } },
        { standardVersion: '1.0.0', source: { recordId: 'j-2' }, birthDate: '1980-02-30' },
      ];
      const response = await upload(JSON.stringify(records), { type: 'application/json', query: '?mapping=canonical' });
      expect(response.status).toBe(422);
      const problem = (await response.json()) as { detail: string };
      expect(problem.detail).toMatch(/^1 of 2 rows rejected/);
      const uploadId = problem.detail.match(/uploads\/([0-9a-f-]{36})/)![1];
      const stored = (await (await ex.request(`/v1/datasets/${datasetId}/uploads/${uploadId}`, { key: acme.key })).json()) as { report: { issues: Json[] } };
      expect(stored.report.issues[0]).toMatchObject({ row: 2, field: 'birthDate', severity: 'rejected' });
      const ok = await upload(JSON.stringify(records.slice(0, 1)), { type: 'application/json', query: '?mapping=canonical' });
      expect(ok.status).toBe(201);
      expect(await ok.json()).toMatchObject({ inserted: 1 });
    });
  });

  describe('erasure', () => {
    it('removes the personal data of every version and audits only that it happened', async () => {
      const response = await ex.request(`/v1/datasets/${datasetId}/records/h-1`, { method: 'DELETE', key: acme.key });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ erased: true, versions: 2, uploadReports: 0, linkageResults: 0 });
      const rows = await ex.db.query<Json>(`SELECT record, full_name_key, birth_date, erased_at FROM customer_records WHERE source_id = 'h-1'`);
      expect(rows).toHaveLength(2);
      for (const r of rows) expect(r).toMatchObject({ record: null, full_name_key: null, birth_date: null, erased_at: expect.any(Date) });
      expect((await ex.request(`/v1/datasets/${datasetId}/records/h-1`, { key: acme.key })).status).toBe(404);
      const [event] = await selectAuditEvents(ex.db, { action: 'record.erase' });
      expect(event).toMatchObject({ partnerId: acme.partner.id, details: { versions: 2, record: expect.stringMatching(/^rec_[A-Za-z0-9_-]{32}$/) } });
      expect(JSON.stringify(event)).not.toMatch(/anna|anne|h-1/i);
      expect((await ex.request(`/v1/datasets/${datasetId}/records/h-1`, { method: 'DELETE', key: acme.key })).status).toBe(404);
      // Uploaded again later, it stays erased; once the partner lifts the erasure, it starts a new version.
      const refused = (await (await upload(`${header}\n${row('h-1', 'anne')}\n${row('h-9', 'hal')}\n`)).json()) as Json;
      expect(refused).toMatchObject({ inserted: 1, rejected: 1, report: { erased: 1 } });
      await ex.request(`/v1/datasets/${datasetId}/erasures/lift`, { method: 'POST', key: acme.key, json: { sourceIds: ['h-1'] } });
      const again = (await (await upload(`${header}\n${row('h-1', 'anne')}\n`)).json()) as Json;
      expect(again).toMatchObject({ inserted: 1 });
      expect((await (await ex.request(`/v1/datasets/${datasetId}/records/h-1`, { key: acme.key })).json()) as Json).toMatchObject({ version: 3 });
    });
    it('also takes the values and the source id out of upload reports that named the record', async () => {
      const body = `${header}\n${row('e-1', 'erin', '19800231')}\n${row('e-1', 'erin')}\n${row('e-2', 'eve', '19800230')}\n`;
      const uploaded = (await (await upload(body)).json()) as { id: string };
      const report = async () => ((await (await ex.request(`/v1/datasets/${datasetId}/uploads/${uploaded.id}`, { key: acme.key })).json()) as { report: Json }).report;
      expect(JSON.stringify(await report())).toContain('19800231');
      const response = await ex.request(`/v1/datasets/${datasetId}/records/e-1`, { method: 'DELETE', key: acme.key });
      expect(await response.json()).toEqual({ erased: true, versions: 1, uploadReports: 1, linkageResults: 0 });
      const scrubbed = (await report()) as { issues: Json[]; duplicates: { flagged: Json[] } };
      expect(scrubbed.issues).toEqual([
        { row: 1, sourceId: null, column: 'date_of_birth', value: null, field: 'birthDate', reason: 'an impossible date; its year and month kept', severity: 'partial', erased: true },
        { row: 3, sourceId: 'e-2', column: 'date_of_birth', value: '19800230', field: 'birthDate', reason: 'an impossible date; its year and month kept', severity: 'partial' },
      ]);
      expect(scrubbed.duplicates.flagged).toEqual([{ row: 2, sourceId: null, kind: 'same_source_id', firstRow: 1, erased: true }]);
      expect(JSON.stringify(scrubbed)).not.toMatch(/e-1|19800231/);
      const [event] = (await selectAuditEvents(ex.db, { action: 'record.erase' })).slice(-1);
      expect(event).toMatchObject({ details: { versions: 1, uploadReports: 1 } });
      expect((await ex.request(`/v1/datasets/${datasetId}/records/e-1`, { method: 'DELETE', key: acme.key })).status).toBe(404);
    });
  });

  describe('another partner', () => {
    it('gets 404 for every path under a dataset that is not its own, and nothing changes', async () => {
      const before = await countRecords();
      const paths: [string, string][] = [
        ['GET', `/v1/datasets/${datasetId}`],
        ['GET', `/v1/datasets/${datasetId}/records/rec-122-org`],
        ['DELETE', `/v1/datasets/${datasetId}/records/rec-122-org`],
      ];
      for (const [method, path] of paths) {
        const response = await ex.request(path, { method, key: globex.key });
        expect(response.status, `${method} ${path}`).toBe(404);
        expect(JSON.stringify(await response.json())).not.toMatch(/berry|lachlan/i);
      }
      expect((await upload(`${header}\n${row('x-1', 'xena')}\n`, { key: globex.key })).status).toBe(404);
      const missing = await upload(`${header}\n${row('x-1', 'xena')}\n`, { dataset: '00000000-0000-4000-8000-000000000000' });
      expect(missing.status).toBe(404);
      expect(await countRecords()).toBe(before);
    });
  });

  describe('lists that page (cursor, limit, Link: rel="next")', () => {
    /** Follows rel="next" from `first` to the end; every page's items, and the Links seen. */
    const walk = async (first: string, key: string) => {
      const pages: Json[][] = [];
      for (let next: string | null = first; next; ) {
        const response = await ex.request(next, { key });
        expect(response.status).toBe(200);
        const body = (await response.json()) as { items: Json[]; nextCursor: string | null };
        pages.push(body.items);
        const link = response.headers.get('link');
        next = link ? /^<([^>]+)>; rel="next"$/.exec(link)![1]! : null;
        expect(next === null).toBe(body.nextCursor === null);
      }
      return pages;
    };

    it('pages datasets and a dataset\'s uploads, each item once, in order, within the partner', async () => {
      for (const name of ['paged-a', 'paged-b', 'paged-c']) {
        expect((await ex.request('/v1/datasets', { method: 'POST', key: acme.key, json: { name } })).status).toBe(201);
      }
      const all = ((await (await ex.request('/v1/datasets', { key: acme.key })).json()) as { items: Json[] }).items.map((d) => d.name);
      const pages = await walk('/v1/datasets?limit=2', acme.key);
      expect(pages.map((p) => p.length)).toEqual([...Array(Math.floor(all.length / 2)).fill(2), ...(all.length % 2 ? [1] : [])]);
      expect(pages.flat().map((d) => d.name)).toEqual(all);
      expect(all.slice(-3)).toEqual(['paged-a', 'paged-b', 'paged-c']);

      const uploads = await walk(`/v1/datasets/${datasetId}/uploads?limit=3`, acme.key);
      const times = uploads.flat().map((u) => Date.parse(u.createdAt as string));
      expect(times.length).toBeGreaterThan(3);
      expect(times).toEqual([...times].sort((a, b) => b - a));
      expect(new Set(uploads.flat().map((u) => u.id)).size).toBe(times.length);
      expect(uploads.flat().every((u) => !('report' in u))).toBe(true);

      // Another partner's cursor finds nothing of acme's; its uploads list is 404 to them.
      const acmeCursor = pages[0]!.at(-1)!.id as string;
      const theirs = (await (await ex.request(`/v1/datasets?cursor=${acmeCursor}`, { key: globex.key })).json()) as { items: Json[] };
      expect(theirs.items).toEqual([]);
      expect((await ex.request(`/v1/datasets/${datasetId}/uploads`, { key: globex.key })).status).toBe(404);
      const bad = await ex.request('/v1/datasets?cursor=not-a-cursor&limit=0', { key: acme.key });
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { errors: Json[] }).errors.map((e) => [e.path, e.in])).toEqual(expect.arrayContaining([['/cursor', 'query'], ['/limit', 'query']]));
    });
  });

  describe('limits from the configuration', () => {
    let limited: TestExchange;
    let key: string;
    let dataset: string;
    const send = (body: string) =>
      limited.request(`/v1/datasets/${dataset}/uploads`, { method: 'POST', key, headers: { 'content-type': 'text/csv' }, body });
    const stored = async () => (await limited.db.query<{ n: number }>('SELECT count(*)::int AS n FROM customer_records WHERE dataset_id = $1', [dataset]))[0]!.n;
    const invalid = ', nobody, x, 1, s, , s, 2000, nsw, 19800101, 1';

    beforeAll(async () => {
      limited = await createTestExchange({ UPLOAD_MAX_ROW_BYTES: '4096', UPLOAD_MAX_REJECTED_RATIO: '0.5' });
      key = (await limited.addPartner('initech')).key;
      const created = await limited.request('/v1/datasets', { method: 'POST', key, json: { name: 'limits', defaultMapping: 'febrl' } });
      dataset = ((await created.json()) as Json).id as string;
    });
    afterAll(() => limited.close());

    it('a row over UPLOAD_MAX_ROW_BYTES: 400 naming the limit, nothing stored', async () => {
      const response = await send(`${header}\n${row('l-1', 'lou')}\n${row('l-2', 'x'.repeat(8000))}\n${row('l-3', 'lia')}\n`);
      expect(response.status).toBe(400);
      expect(response.headers.get('content-type')).toBe('application/problem+json');
      expect(((await response.json()) as { detail: string }).detail).toMatch(/larger than 4096 bytes/);
      expect(await stored()).toBe(0);
    });

    it('UPLOAD_MAX_REJECTED_RATIO decides how many rejected rows an upload may have', async () => {
      const third = await send(`${header}\n${row('m-1', 'max')}\n${row('m-2', 'mo')}\n${invalid}\n`);
      expect(third.status).toBe(201);
      expect(await third.json()).toMatchObject({ accepted: 2, rejected: 1, inserted: 2 });
      const twoThirds = await send(`${header}\n${row('m-3', 'mia')}\n${invalid}\n${invalid}\n`);
      expect(twoThirds.status).toBe(422);
      expect(((await twoThirds.json()) as { detail: string }).detail).toMatch(/^2 of 3 rows rejected, more than the limit of 50%/);
      expect(await stored()).toBe(2);
    });
  });
});
