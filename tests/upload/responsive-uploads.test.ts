/**
 * A large upload leaves the exchange answering, and shows its records all at once or not at all.
 * On the embedded engine a first load commits in slices, and a later upload stages its batches in
 * transactions of their own (src/store/loading.ts); on the server each is one transaction. The
 * same promises hold on both.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { beginLoading, discardInterruptedLoads } from '../../src/store/loading.js';
import { openFirstLoad, prepareRecord, selectRecordVersion } from '../../src/store/records.js';
import { selectDatasetRecords } from '../../src/store/candidates.js';
import { createTestExchange, type TestExchange } from '../helpers/app.js';
import { engineUnderTest } from '../helpers/database.js';

type Json = Record<string, unknown>;
const line = (i: number) =>
  `${JSON.stringify({ standardVersion: '1.0.0', source: { recordId: `r-${i}` }, name: { given: `Given${i % 97}`, family: `Family${i}` }, birthDate: '1980-01-02' })}\n`;
const lines = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => line(from + k)).join('');

/** An upload whose body the test feeds and ends (or breaks) when it chooses. */
function heldUpload(ex: TestExchange, key: string, datasetId: string) {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) });
  const encoder = new TextEncoder();
  const response = Promise.resolve(
    ex.app.request(`/v1/datasets/${datasetId}/uploads?mapping=canonical`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/x-ndjson' },
      body,
      duplex: 'half',
    } as RequestInit),
  );
  return {
    response,
    send: (text: string) => controller.enqueue(encoder.encode(text)),
    end: () => controller.close(),
    fail: () => controller.error(new Error('aborted')),
  };
}

async function until(condition: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe(`a first load on ${engineUnderTest}`, () => {
  let ex: TestExchange;
  let acme: { partner: { id: string }; key: string };
  const newDataset = async (name: string) =>
    String(((await (await ex.request('/v1/datasets', { method: 'POST', key: acme.key, json: { name } })).json()) as Json).id);
  const stored = async (datasetId: string) =>
    (await ex.db.query<{ n: number }>('SELECT count(*)::int AS n FROM customer_records WHERE dataset_id = $1', [datasetId]))[0]!.n;
  const staged = async () => (await ex.db.query<{ n: number }>('SELECT count(*)::int AS n FROM upload_staging_rows'))[0]!.n;
  /** Rows the upload has handed to the database: committed slices (embedded) or an open transaction (server). */
  const loadUnderWay = async (datasetId: string, later = false) =>
    engineUnderTest === 'pglite'
      ? later ? (await staged()) >= 2000 : (await stored(datasetId)) >= 2000
      : (await ex.db.query(`SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`)).length > 0;

  beforeAll(async () => {
    ex = await createTestExchange();
    acme = await ex.addPartner('acme');
  });
  afterAll(() => ex.close());

  it('answers other requests while it runs, and its records appear only when it completes', async () => {
    const datasetId = await newDataset('big');
    const upload = heldUpload(ex, acme.key, datasetId);
    upload.send(lines(0, 3000));
    await until(() => loadUnderWay(datasetId), 'the load to start storing');
    if (engineUnderTest === 'pglite') await new Promise((resolve) => setTimeout(resolve, 200));

    expect((await ex.request('/readyz')).status).toBe(200);
    const during = (await (await ex.request(`/v1/datasets/${datasetId}`, { key: acme.key })).json()) as Json;
    expect(during).toMatchObject({ records: 0, loading: engineUnderTest === 'pglite' });
    expect((await ex.request(`/v1/datasets/${datasetId}/records/r-10`, { key: acme.key })).status).toBe(404);
    expect(await selectDatasetRecords(ex.db, { partnerId: acme.partner.id, datasetId })).toEqual([]);

    upload.send(lines(3000, 4500));
    upload.send(line(10).replace('Given10', 'Repeated')); // a repeated source id merges into its record
    upload.end();
    const response = await upload.response;
    expect(response.status).toBe(201);
    const done = (await response.json()) as Json & { createdAt: string };
    expect(done).toMatchObject({ inserted: 4500, updated: 0, accepted: 4501 });

    const after = (await (await ex.request(`/v1/datasets/${datasetId}`, { key: acme.key })).json()) as Json;
    expect(after).toMatchObject({ records: 4500, loading: false });
    const record = (await (await ex.request(`/v1/datasets/${datasetId}/records/r-10`, { key: acme.key })).json()) as Json & { record: Json };
    expect(record).toMatchObject({ version: 1, record: { name: { given: 'Repeated' } } });
    // The upload's time finds its versions, as for any upload.
    const asOf = await selectRecordVersion(ex.db, { partnerId: acme.partner.id, datasetId, sourceId: 'r-4499', asOf: done.createdAt });
    expect(asOf).toMatchObject({ version: 1 });
  });

  it('a load that breaks off after slices were stored leaves nothing, and the dataset takes the next one', async () => {
    const datasetId = await newDataset('broken');
    const upload = heldUpload(ex, acme.key, datasetId);
    upload.send(lines(0, 3000));
    await until(() => loadUnderWay(datasetId), 'the load to start storing');
    upload.fail();
    const response = await upload.response;
    expect(response.status).toBe(400);
    expect(((await response.json()) as { detail: string }).detail).toMatch(/nothing was stored/);
    expect(await stored(datasetId)).toBe(0);
    expect(await ex.db.query('SELECT 1 FROM datasets WHERE id = $1 AND loading_upload_id IS NOT NULL', [datasetId])).toEqual([]);

    const again = heldUpload(ex, acme.key, datasetId);
    again.send(lines(0, 50));
    again.end();
    expect(await (await again.response).json()).toMatchObject({ inserted: 50 });
  });

  it('a later upload answers others while it runs, and changes nothing unless it completes', async () => {
    const datasetId = await newDataset('later');
    const first = heldUpload(ex, acme.key, datasetId);
    first.send(lines(0, 100));
    first.end();
    expect(await (await first.response).json()).toMatchObject({ inserted: 100 });
    const readR10 = async () => (await (await ex.request(`/v1/datasets/${datasetId}/records/r-10`, { key: acme.key })).json()) as Json;
    const changed = (from: number, to: number) => lines(from, to).replaceAll('Given', 'Changed');

    const broken = heldUpload(ex, acme.key, datasetId);
    broken.send(changed(0, 6000));
    await until(() => loadUnderWay(datasetId, true), 'the upload to start staging');
    expect((await ex.request('/readyz')).status).toBe(200);
    expect(await readR10()).toMatchObject({ version: 1, record: { name: { given: 'Given10' } } });
    broken.fail();
    expect((await broken.response).status).toBe(400);
    expect(await staged()).toBe(0);
    expect(await readR10()).toMatchObject({ version: 1, record: { name: { given: 'Given10' } } });

    const whole = heldUpload(ex, acme.key, datasetId);
    whole.send(changed(0, 6000));
    await until(() => loadUnderWay(datasetId, true), 'the upload to start staging');
    expect(await readR10()).toMatchObject({ version: 1 });
    whole.end();
    expect(await (await whole.response).json()).toMatchObject({ inserted: 5900, updated: 100, unchanged: 0 });
    expect(await readR10()).toMatchObject({ version: 2, record: { name: { given: 'Changed10' } } });
    expect(await staged()).toBe(0);
  });

  it('an erasure asked for while an upload of the record runs is not undone by it', async () => {
    const datasetId = await newDataset('erased-during');
    const first = heldUpload(ex, acme.key, datasetId);
    first.send(lines(0, 100));
    first.end();
    expect((await first.response).status).toBe(201);
    const upload = heldUpload(ex, acme.key, datasetId);
    upload.send(lines(0, 6000).replaceAll('Given', 'Changed'));
    await until(() => loadUnderWay(datasetId, true), 'the upload to start staging');
    const erasure = Promise.resolve(ex.request(`/v1/datasets/${datasetId}/records/r-10`, { method: 'DELETE', key: acme.key }));
    await new Promise((resolve) => setTimeout(resolve, 300));
    upload.end();
    expect((await upload.response).status).toBe(201);
    expect((await erasure).status).toBe(200);
    expect((await ex.request(`/v1/datasets/${datasetId}/records/r-10`, { key: acme.key })).status).toBe(404);
    const [left] = await ex.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM customer_records WHERE dataset_id = $1 AND source_id = 'r-10' AND record IS NOT NULL`,
      [datasetId],
    );
    expect(left).toEqual({ n: 0 });
  });

  it('two first loads into one dataset at once run one after the other', async () => {
    const datasetId = await newDataset('twice');
    const first = heldUpload(ex, acme.key, datasetId);
    const second = heldUpload(ex, acme.key, datasetId);
    first.send(lines(0, 1500));
    second.send(lines(1000, 2000));
    first.end();
    second.end();
    const answers = (await Promise.all([first.response, second.response])).map((r) => r.json() as Promise<Json>);
    const [a, b] = await Promise.all(answers);
    expect([a, b].map((u) => u!.status)).toEqual(['completed', 'completed']);
    // Whichever ran first loaded all its rows; the other found the 500 they share unchanged.
    const counts = [a, b].map((u) => [u!.inserted, u!.unchanged]);
    expect(['[[1500,0],[500,500]]', '[[1000,500],[1000,0]]']).toContain(JSON.stringify(counts));
    expect(await stored(datasetId)).toBe(2000);
  });

  it('a load a crash interrupted is removed when the exchange starts', async () => {
    const datasetId = await newDataset('crashed');
    const scope = { partnerId: acme.partner.id, datasetId, uploadId: crypto.randomUUID() };
    const since = await beginLoading(ex.db, scope);
    await ex.db.transaction(async (tx) => {
      const slice = await openFirstLoad(tx, scope, since);
      await slice.write(Array.from({ length: 20 }, (_, i) => prepareRecord(i + 1, JSON.parse(line(i)))));
      await slice.end();
    });
    expect(await stored(datasetId)).toBe(20);
    expect(await discardInterruptedLoads(ex.db)).toBe(1);
    expect(await stored(datasetId)).toBe(0);
    expect(await (await ex.request(`/v1/datasets/${datasetId}`, { key: acme.key })).json()).toMatchObject({ loading: false, records: 0 });
  });
});
