/** Limits every production API has: rate limits, 405 with Allow, no caching of personal data. On both engines. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FixedWindowLimiter } from '../../src/api/rate-limits.js';
import { createTestExchange, type TestExchange } from '../helpers/app.js';
import { engineUnderTest } from '../helpers/database.js';

type Json = Record<string, unknown>;

describe(`limits on ${engineUnderTest}`, () => {
  let ex: TestExchange;
  let acme: { key: string };
  let globex: { key: string };
  beforeAll(async () => {
    ex = await createTestExchange({ RATE_LIMIT_PER_KEY: '20', RATE_LIMIT_MATCH_PER_KEY: '3', RATE_LIMIT_AUTH_FAILURES: '4' });
    acme = await ex.addPartner('acme');
    globex = await ex.addPartner('globex');
  });
  afterAll(() => ex.close());

  it('a fixed window counts, refuses past the limit and opens again', () => {
    const limiter = new FixedWindowLimiter('t', 2, 1000);
    expect(limiter.take('a', 0)).toMatchObject({ allowed: true, remaining: 1 });
    expect(limiter.take('a', 10)).toMatchObject({ allowed: true, remaining: 0 });
    expect(limiter.take('a', 20)).toMatchObject({ allowed: false, remaining: 0, resetSeconds: 1 });
    expect(limiter.take('b', 20)).toMatchObject({ allowed: true });
    expect(limiter.take('a', 1000)).toMatchObject({ allowed: true, remaining: 1 });
  });

  it('per API key: RateLimit headers on every answer, then 429 with Retry-After', async () => {
    const first = await ex.request('/v1/partners/me', { key: acme.key });
    expect(first.status).toBe(200);
    expect(first.headers.get('ratelimit-policy')).toBe('"key";q=20;w=60');
    expect(first.headers.get('ratelimit')).toMatch(/^"key";r=19;t=\d+$/);
    let last = first;
    for (let i = 0; i < 20; i += 1) last = await ex.request('/v1/partners/me', { key: acme.key });
    expect(last.status).toBe(429);
    expect(Number(last.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(last.headers.get('content-type')).toBe('application/problem+json');
    expect(((await last.json()) as Json).reason).toBe('rate_limited');
    // Another key has its own budget.
    expect((await ex.request('/v1/partners/me', { key: globex.key })).status).toBe(200);
  });

  it('the match routes have their own, tighter budget', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i += 1) {
      const response = await ex.request('/v1/match', { method: 'POST', key: globex.key, json: { purpose: 'fraud_prevention', criteria: { family: 'x', postcode: '2000' } } });
      statuses.push(response.status);
      if (i === 0) expect(response.headers.get('ratelimit-policy') ?? '').toBe('');
    }
    // No token: 401 each time, but each counts against the match budget.
    expect(statuses).toEqual([401, 401, 401, 429]);
  });

  it('failed authentications from one address: refused once over the limit, even with a good key', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i += 1) statuses.push((await ex.request('/v1/partners/me', { key: `cx_wrong_${i}` })).status);
    expect(statuses).toEqual([401, 401, 401, 401, 429]);
    const blocked = await ex.request('/v1/datasets', { key: globex.key });
    expect(blocked.status).toBe(429);
    expect(((await blocked.json()) as Json).detail).toMatch(/failed authentications from this address/);
  });
});

describe(`HTTP conventions on ${engineUnderTest}`, () => {
  let ex: TestExchange;
  let acme: { key: string };
  beforeAll(async () => {
    ex = await createTestExchange();
    acme = await ex.addPartner('acme');
  });
  afterAll(() => ex.close());

  it('a wrong method on a known path: 405 with Allow', async () => {
    const put = await ex.request('/v1/datasets', { method: 'PUT', key: acme.key });
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('GET, HEAD, POST');
    const patch = await ex.request('/v1/datasets/00000000-0000-4000-8000-000000000000/records/x', { method: 'PATCH', key: acme.key });
    expect([patch.status, patch.headers.get('allow')]).toEqual([405, 'DELETE, GET, HEAD']);
    expect((await ex.request('/v1/nothing-here', { key: acme.key })).status).toBe(404);
  });

  it('answers with personal data are never cached; the published standard may be', async () => {
    const created = await ex.request('/v1/datasets', { method: 'POST', key: acme.key, json: { name: 'crm' } });
    const datasetId = String(((await created.json()) as Json).id);
    const body = JSON.stringify({ standardVersion: '1.0.0', source: { recordId: 'r1' }, name: { given: 'Ann' } });
    const upload = await ex.request(`/v1/datasets/${datasetId}/uploads?mapping=canonical`, { method: 'POST', key: acme.key, headers: { 'content-type': 'application/x-ndjson' }, body });
    expect(upload.headers.get('cache-control')).toBe('no-store');
    const record = await ex.request(`/v1/datasets/${datasetId}/records/r1`, { key: acme.key });
    expect([record.status, record.headers.get('cache-control')]).toEqual([200, 'no-store']);
    expect((await ex.request('/v1/datasets/nope/records/r1', { key: acme.key })).headers.get('cache-control')).toBe('no-store');
    expect((await ex.request('/v1/standards/customer/1')).headers.get('cache-control')).not.toBe('no-store');
  });
});
