/**
 * Text PostgreSQL cannot store (NUL, unpaired surrogates) is refused per row, a failed COPY always
 * returns its connection, a client that leaves mid-upload releases everything, and /readyz says so
 * when every connection is busy. On both engines.
 */
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/api/server.js';
import { createTestExchange, type TestExchange } from '../helpers/app.js';
import { engineUnderTest } from '../helpers/database.js';

type Json = Record<string, unknown>;
const canonical = (id: string, given: string) => JSON.stringify({ standardVersion: '1.0.0', source: { recordId: id }, name: { given, family: 'Marker' } });
const febrlHeader = 'rec_id, given_name, surname, street_number, address_1, address_2, suburb, postcode, state, date_of_birth, soc_sec_id';
const febrlRow = (id: string, given: string) => `${id}, ${given}, zzsecretname, 1, main street, , sydney, 2000, nsw, 19800102, 1234567`;

describe(`unstorable text on ${engineUnderTest}`, () => {
  let ex: TestExchange;
  let acme: { key: string };
  let datasetId: string;
  let febrlDataset: string;

  const upload = (body: string, type: string, query = '', dataset = datasetId) =>
    ex.request(`/v1/datasets/${dataset}/uploads${query}`, { method: 'POST', key: acme.key, headers: { 'content-type': type }, body });
  const stuckConnections = async () => {
    if (engineUnderTest !== 'postgres') return 0;
    const [row] = await ex.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'`,
    );
    return row!.n;
  };
  const countRecords = async (dataset: string) =>
    (await ex.db.query<{ n: number }>('SELECT count(*)::int AS n FROM customer_records WHERE dataset_id = $1', [dataset]))[0]!.n;

  beforeAll(async () => {
    ex = await createTestExchange({ UPLOAD_MAX_REJECTED_RATIO: '0.5', READY_TIMEOUT_MS: '500' });
    acme = await ex.addPartner('acme');
    const created = await ex.request('/v1/datasets', { method: 'POST', key: acme.key, json: { name: 'canonical' } });
    datasetId = ((await created.json()) as Json).id as string;
    const febrl = await ex.request('/v1/datasets', { method: 'POST', key: acme.key, json: { name: 'febrl', defaultMapping: 'febrl' } });
    febrlDataset = ((await febrl.json()) as Json).id as string;
  });
  afterAll(() => ex.close());

  it('NDJSON with \\u0000 or a lone surrogate: those rows are refused with a reason, the rest stored', async () => {
    const body = [canonical('1', 'ann'), canonical('2', 'b\u0000ob'), canonical('3', 'x\ud800y'), canonical('4', 'dan')].join('\n');
    const response = await upload(body, 'application/x-ndjson', '?mapping=canonical');
    expect(response.status).toBe(201);
    const result = (await response.json()) as Json & { report: { issues: Json[] } };
    expect(result).toMatchObject({ accepted: 2, rejected: 2, inserted: 2 });
    const reasons = result.report.issues.map((i) => i.reason as string);
    expect(reasons).toEqual([
      expect.stringMatching(/field "name\.given" holds a NUL character/),
      expect.stringMatching(/field "name\.given" holds invalid Unicode/),
    ]);
    expect(result.report.issues.every((i) => i.value === null)).toBe(true);
    expect(await countRecords(datasetId)).toBe(2);
  });

  it('a CSV field or source id holding NUL: the row is refused naming its column; strict mode refuses the upload', async () => {
    const body = [febrlHeader, febrlRow('rec-1', 'ann'), febrlRow('rec-\u00002', 'bob'), febrlRow('rec-3', 'c\u0000arl'), febrlRow('rec-4', 'dan')].join('\n');
    const response = await upload(body, 'text/csv', '', febrlDataset);
    expect(response.status).toBe(201);
    const result = (await response.json()) as Json & { report: { issues: Json[] } };
    expect(result).toMatchObject({ accepted: 2, rejected: 2 });
    expect(result.report.issues.map((i) => i.column)).toEqual(['rec_id', 'given_name']);
    const strict = await upload(body, 'text/csv', '?strict=true', febrlDataset);
    expect(strict.status).toBe(422);
    expect(((await strict.json()) as Json).detail).toMatch(/row 2: .*NUL character/);
  });

  it('ten such uploads leave no connection stuck, and the service still answers', async () => {
    const bad = [canonical('9', 'z\u0000'), canonical('10', 'y\ud800')].join('\n');
    for (let i = 0; i < 10; i += 1) expect((await upload(bad, 'application/x-ndjson', '?mapping=canonical&strict=true')).status).toBe(422);
    expect(await stuckConnections()).toBe(0);
    expect((await ex.request('/readyz')).status).toBe(200);
    expect((await ex.request('/v1/datasets', { key: acme.key })).status).toBe(200);
  });

  it('no log line holds an input value', async () => {
    const text = JSON.stringify(ex.logs);
    expect(text).not.toMatch(/zzsecretname|Marker|b\\\\u0000ob|rec-\\\\u00002/);
  });

  it('a COPY the database refuses ends, and its connection is free again', async () => {
    const columns = ['partner_id', 'dataset_id', 'version', 'upload_id', 'valid_from', 'source_id', 'record'];
    for (let i = 0; i < 12; i += 1) {
      await expect(
        ex.db.transaction(async (tx) => {
          const copy = await tx.openCopy('customer_records', columns);
          await copy.write('not\ta\tvalid\trow\n');
          await copy.end();
        }),
      ).rejects.toThrow();
      await expect(ex.db.transaction((tx) => tx.copyRows('customer_records', columns, 'bad\trow\n'))).rejects.toThrow();
    }
    expect(await stuckConnections()).toBe(0);
    expect(await ex.db.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
  });

  it('/readyz answers 503 while every connection is busy, and 200 once they are free', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    // PGlite has one connection; the server's pool has ten.
    const holders = Array.from({ length: engineUnderTest === 'postgres' ? 10 : 1 }, () => ex.db.transaction(async (tx) => (await tx.query('SELECT 1'), await held)));
    await new Promise((resolve) => setTimeout(resolve, 200));
    const busy = await ex.request('/readyz');
    expect(busy.status).toBe(503);
    expect(((await busy.json()) as Json).detail).toMatch(/did not answer within 500 ms/);
    release();
    await Promise.all(holders);
    expect((await ex.request('/readyz')).status).toBe(200);
  });

  describe('over HTTP', () => {
    let server: RunningServer;
    beforeAll(async () => {
      server = await startServer({ db: { ...ex.db, close: async () => {} }, config: { ...ex.config, PORT: 0 }, logger: ex.logger });
    });
    afterAll(async () => {
      // The database belongs to the test exchange; close only the listener.
      await server.shutdown().catch(() => {});
    });

    it('a client that disconnects mid-upload releases the connection and stores nothing', async () => {
      const url = new URL(`/v1/datasets/${datasetId}/uploads?mapping=canonical`, server.url);
      const before = await countRecords(datasetId);
      for (let attempt = 0; attempt < 3; attempt += 1) {
        await new Promise<void>((resolve) => {
          const req = httpRequest(url, { method: 'POST', headers: { authorization: `Bearer ${acme.key}`, 'content-type': 'application/x-ndjson', 'transfer-encoding': 'chunked' } });
          req.on('error', () => resolve());
          let sent = 0;
          const lines = Array.from({ length: 2000 }, (_, i) => canonical(`gone-${attempt}-${i}`, 'eve')).join('\n');
          const tick = setInterval(() => {
            req.write(lines.slice(sent, sent + 20_000));
            sent += 20_000;
            if (sent > 100_000) {
              clearInterval(tick);
              req.destroy();
              resolve();
            }
          }, 20);
        });
      }
      // The server notices, aborts the mapping and the COPY, rolls back and keeps each as a refused upload.
      const refused = async () =>
        (await ex.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM uploads WHERE dataset_id = $1 AND status = 'rejected' AND reason = 'the body ended before it was complete'`, [datasetId]))[0]!.n;
      for (let i = 0; i < 100 && ((await stuckConnections()) > 0 || (await refused()) < 3); i += 1) await new Promise((resolve) => setTimeout(resolve, 100));
      expect(await refused()).toBe(3);
      expect(await stuckConnections()).toBe(0);
      expect(await countRecords(datasetId)).toBe(before);
      const next = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${acme.key}`, 'content-type': 'application/x-ndjson' }, body: canonical('after', 'fay') });
      expect(next.status).toBe(201);
    });
  });
});
