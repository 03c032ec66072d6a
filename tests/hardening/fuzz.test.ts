/**
 * Property-based fuzzing (fast-check): random and mutated bytes, CSV, NDJSON and JSON thrown at the
 * readers and at the upload and match routes. Never a 500, never a hang, never a half-stored upload,
 * never a log line holding an input value. Bounded: a few dozen runs per property, on each engine.
 */
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMapping } from '../../src/mapping/load.js';
import { InputError, readRows } from '../../src/mapping/readers.js';
import { createTestExchange, type TestExchange } from '../helpers/app.js';
import { engineUnderTest } from '../helpers/database.js';

type Json = Record<string, unknown>;
/** Every generated value carries this, so a log line holding any input value is found. */
const MARK = 'Zq9Mark';
const header = 'rec_id,given_name,surname,street_number,address_1,address_2,suburb,postcode,state,date_of_birth,soc_sec_id';

/** Text with the characters readers trip on: quotes, delimiters, line ends, NUL, lone surrogates, BOMs, CJK. */
const nastyChar = fc.constantFrom('"', ',', '\n', '\r', '\t', '\u0000', '\ud800', '\udfff', '\ufeff', '=', '+', '-', '@', '\\', '张', '😀', 'a', '1', ' ');
const nastyText = fc.array(fc.oneof(nastyChar, fc.string({ maxLength: 4 })), { maxLength: 12 }).map((parts) => parts.join(''));
const cell = fc.oneof(nastyText, fc.constant(''), fc.integer().map(String)).map((t) => `${MARK}${t}`);
const csvRow = fc.array(cell, { minLength: 0, maxLength: 14 }).map((cells) => cells.join(','));
const csvBody = fc.tuple(fc.boolean(), fc.array(csvRow, { maxLength: 8 })).map(([withHeader, rows]) => [...(withHeader ? [header] : []), ...rows].join('\n'));
const jsonValue = fc.jsonValue({ maxDepth: 3 });
const ndjsonBody = fc
  .array(fc.oneof(jsonValue.map((v) => JSON.stringify(v)), fc.record({ standardVersion: fc.constant('1.0.0'), source: fc.record({ recordId: cell }), name: fc.record({ given: cell }) }).map((v) => JSON.stringify(v)), nastyText), { maxLength: 6 })
  .map((lines) => lines.join('\n'));
/** A valid body with bytes flipped, cut or inserted somewhere. */
const mutated = (base: string) =>
  fc.tuple(fc.nat(), fc.nat(255), fc.constantFrom('flip', 'cut', 'insert')).map(([at, byte, how]) => {
    const bytes = Buffer.from(base);
    const i = bytes.length ? at % bytes.length : 0;
    if (how === 'flip' && bytes.length) bytes[i] = byte;
    if (how === 'cut') return bytes.subarray(0, i);
    if (how === 'insert') return Buffer.concat([bytes.subarray(0, i), Buffer.from([byte]), bytes.subarray(i)]);
    return bytes;
  });
const validCsv = `${header}\n${MARK}1,ann,smith,1,main st,,sydney,2000,nsw,19800102,123\n${MARK}2,bob,jones,2,high st,,perth,6000,wa,19751231,456\n`;
const validNdjson = [1, 2].map((i) => JSON.stringify({ standardVersion: '1.0.0', source: { recordId: `${MARK}${i}` }, name: { given: 'Ann', family: 'Lee' }, birthDate: '1980-01-02' })).join('\n');

describe('the readers, fuzzed', () => {
  const read = async (bytes: Buffer | string, mapping: string) => {
    const source = loadMapping(mapping).source;
    try {
      for await (const item of readRows(Readable.from([Buffer.from(bytes)]), source, () => {})) void item;
    } catch (error) {
      // The one way a reader may fail: an input error with a readable reason, never the value.
      expect(error).toBeInstanceOf(InputError);
      expect((error as Error).message).not.toContain(MARK);
    }
  };

  it('CSV: random and mutated', async () => {
    await fc.assert(fc.asyncProperty(fc.oneof(csvBody, mutated(validCsv), fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString('latin1'))), (body) => read(body, 'febrl')), { numRuns: 500 });
  });

  it('NDJSON and JSON: random and mutated', async () => {
    const mapping = loadMapping('retail-loyalty').source.format === 'json' ? 'retail-loyalty' : 'febrl';
    await fc.assert(fc.asyncProperty(fc.oneof(ndjsonBody, mutated(validNdjson)), (body) => read(body, 'splink-fake-1000')), { numRuns: 300 });
    await fc.assert(fc.asyncProperty(fc.oneof(jsonValue.map((v) => JSON.stringify(v)), mutated(JSON.stringify([JSON.parse(validNdjson.split('\n')[0]!)]))), (body) => read(body, mapping)), { numRuns: 300 });
  });
});

describe(`the routes, fuzzed, on ${engineUnderTest}`, () => {
  let ex: TestExchange;
  let acme: { key: string };
  let datasetId: string;
  const count = async () => (await ex.db.query<{ n: number }>('SELECT count(*)::int AS n FROM customer_records WHERE dataset_id = $1', [datasetId]))[0]!.n;

  beforeAll(async () => {
    // Mapped in the service's thread: a worker per upload would spend the time budget starting threads.
    ex = await createTestExchange({ UPLOAD_LIMIT_BYTES: '4096', UPLOAD_WORKERS: '0', RATE_LIMIT_PER_KEY: '100000', RATE_LIMIT_MATCH_PER_KEY: '100000' });
    acme = await ex.addPartner('acme');
    datasetId = String(((await (await ex.request('/v1/datasets', { method: 'POST', key: acme.key, json: { name: 'fuzz', defaultMapping: 'febrl' } })).json()) as Json).id);
  });
  afterAll(() => ex.close());

  const upload = async (body: Buffer | string, type: string, query = '') => {
    const before = await count();
    const response = await ex.request(`/v1/datasets/${datasetId}/uploads${query}`, { method: 'POST', key: acme.key, headers: { 'content-type': type }, body });
    expect([201, 400, 413, 415, 422], await response.clone().text()).toContain(response.status);
    expect(response.headers.get('content-type')).toMatch(response.status === 201 ? /json/ : /application\/problem\+json/);
    // All or nothing: a refused upload stores nothing; an accepted one stores no more rows than it had.
    if (response.status !== 201) expect(await count()).toBe(before);
  };

  it('uploads: random and mutated CSV, NDJSON and JSON; never a 500, never half-stored', async () => {
    await fc.assert(fc.asyncProperty(fc.oneof(csvBody, mutated(validCsv)), fc.boolean(), (body, strict) => upload(body, 'text/csv', strict ? '?strict=true' : '')), { numRuns: 80 });
    await fc.assert(fc.asyncProperty(fc.oneof(ndjsonBody, mutated(validNdjson)), (body) => upload(body, 'application/x-ndjson', '?mapping=canonical')), { numRuns: 80 });
    await fc.assert(fc.asyncProperty(jsonValue, (value) => upload(JSON.stringify(value), 'application/json', '?mapping=canonical')), { numRuns: 40 });
  }, 120_000);

  it('match: random JSON bodies are a 400 or 401, never a 500', async () => {
    const criteria = fc.dictionary(fc.constantFrom('given', 'family', 'full', 'birthDate', 'email', 'phone', 'postcode', 'street', 'identifier', 'country', 'x'), fc.oneof(cell, jsonValue));
    const body = fc.oneof(jsonValue, fc.record({ purpose: fc.oneof(fc.constant('fraud_prevention'), cell), criteria, q: fc.option(cell), dateOrder: fc.option(fc.constantFrom('DMY', 'MDY', 'YMD')) }));
    await fc.assert(
      fc.asyncProperty(body, async (json) => {
        const response = await ex.request('/v1/match', { method: 'POST', key: acme.key, json, headers: { 'consent-token': 'not.a.token' } });
        expect([400, 401, 413]).toContain(response.status);
      }),
      { numRuns: 200 },
    );
  }, 60_000);

  it('no log line holds an input value', () => {
    expect(ex.logs.length).toBeGreaterThan(0);
    expect(JSON.stringify(ex.logs)).not.toContain(MARK);
  });
});
