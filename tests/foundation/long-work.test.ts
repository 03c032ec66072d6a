/**
 * Work that holds a connection for long (an upload's transaction while its body streams in, batch
 * linkage, training) runs on connections of its own on the server, so that it cannot take all the
 * requests' (DATABASE_POOL_SIZE, DATABASE_LONG_WORK_POOL_SIZE). PGlite has one connection anyway.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultModel } from '../../src/match/model.js';
import { linkDatasets } from '../../src/services/link-datasets.js';
import { forLongWork, type Database } from '../../src/store/database.js';
import { openPostgres } from '../../src/store/postgres.js';
import { createTestExchange, type TestExchange } from '../helpers/app.js';
import { createServerDatabase, engineUnderTest } from '../helpers/database.js';

const waited = (ms: number) => new Promise<'still waiting'>((resolve) => setTimeout(() => resolve('still waiting'), ms));

describe(`long work on connections of its own on ${engineUnderTest}`, () => {
  let ex: TestExchange;
  beforeAll(async () => {
    ex = await createTestExchange();
  });
  afterAll(() => ex.close());

  it('runs an upload on them', async () => {
    const long = forLongWork(ex.db);
    if (engineUnderTest === 'pglite') expect(long).toBe(ex.db);
    else expect(long).not.toBe(ex.db);
    const transaction = long.transaction.bind(long);
    let transactions = 0;
    long.transaction = ((fn) => ((transactions += 1), transaction(fn))) as Database['transaction'];
    try {
      const { key } = await ex.addPartner('acme');
      const dataset = (await (await ex.request('/v1/datasets', { method: 'POST', key, json: { name: 'people' } })).json()) as { id: string };
      const body = JSON.stringify({ standardVersion: '1.0.0', source: { recordId: 'p1' }, name: { given: 'Anna', family: 'Lindqvist' } });
      const upload = await ex.request(`/v1/datasets/${dataset.id}/uploads?mapping=canonical`, { method: 'POST', key, headers: { 'content-type': 'application/x-ndjson' }, body });
      expect(upload.status).toBe(201);
      expect(transactions).toBeGreaterThan(0);
    } finally {
      long.transaction = transaction;
    }
  });

  it('runs more batch linkages at once than long work has connections, each to its end', async () => {
    // A linkage holds one connection for its blocking and reads its records on another: as many at
    // once as the pool has connections each held one and waited for a second, for ever.
    const { partner, key } = await ex.addPartner('many-links');
    const dataset = (await (await ex.request('/v1/datasets', { method: 'POST', key, json: { name: 'people' } })).json()) as { id: string };
    const people = ['Anna Lindqvist', 'Ana Lindquist', 'Jon Smyth', 'John Smith', 'Wei Zhang'].map((name, i) => {
      const [given, family] = name.split(' ');
      return JSON.stringify({ standardVersion: '1.0.0', source: { recordId: `p${i}` }, name: { given, family }, birthDate: '1980-02-0' + (1 + (i % 2)) });
    });
    const upload = await ex.request(`/v1/datasets/${dataset.id}/uploads?mapping=canonical`, { method: 'POST', key, headers: { 'content-type': 'application/x-ndjson' }, body: people.join('\n') });
    expect(upload.status).toBe(201);
    const scope = { partnerId: partner.id, datasetId: dataset.id };
    const model = defaultModel();
    const linkages = Array.from({ length: 6 }, () => linkDatasets(forLongWork(ex.db), scope, scope, { model, threshold: model.thresholds.possible }));
    const ended = await Promise.race([Promise.all(linkages), waited(20_000)]);
    expect(ended).not.toBe('still waiting');
    for (const result of ended as Awaited<(typeof linkages)[number]>[]) expect(result.links.map((l) => [l.leftId, l.rightId].sort().join(' '))).toContain('p0 p1');
  }, 30_000);

  it.runIf(engineUnderTest === 'postgres')('leaves the requests their connections while long work holds all of its own', async () => {
    const { url, drop } = await createServerDatabase('cx_long', false);
    const db = openPostgres(url, { max: 2, longWorkMax: 2 });
    const long = forLongWork(db);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    try {
      const holding = [1, 2].map(() => long.transaction(async (tx) => (await tx.query('SELECT 1'), await held)));
      await new Promise((resolve) => setTimeout(resolve, 200));
      // Both long-work connections are held: more long work waits…
      const third = long.query<{ n: number }>('SELECT 3 AS n');
      expect(await Promise.race([third, waited(300)])).toBe('still waiting');
      // …and a request is answered at once.
      expect(await Promise.race([db.query<{ n: number }>('SELECT 2 AS n'), waited(3000)])).toEqual([{ n: 2 }]);
      release();
      await Promise.all(holding);
      expect(await third).toEqual([{ n: 3 }]);
    } finally {
      release();
      await db.close();
      await drop();
    }
  });
});
