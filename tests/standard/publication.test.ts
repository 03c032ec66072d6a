import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishedStandardFiles, standardsDir } from '../../src/cli/commands/standards.js';
import { customerDictionary } from '../../src/standard/publish.js';
import { customerRecordSchema, STANDARD_VERSION } from '../../src/standard/customer.js';
import { createTestExchange, type TestExchange } from '../helpers/app.js';
import { runCx, cliTimeout } from '../helpers/cli.js';

describe('the published standard', cliTimeout, () => {
  it.each(Object.keys(publishedStandardFiles()))('standards/%s is up to date (else run npm run standards:generate)', (path) => {
    expect(readFileSync(`${standardsDir}${path}`, 'utf8')).toBe(publishedStandardFiles()[path]);
  });

  it('documents every field with a meaning and an example', () => {
    const entries = customerDictionary();
    expect(entries.length).toBeGreaterThan(50);
    for (const entry of entries) {
      expect(entry.description, entry.path).not.toBe('');
      expect(entry.example, entry.path).not.toBeUndefined();
    }
    expect(entries.find((e) => e.path === 'phones[].number')).toMatchObject({ required: true, normalisation: expect.stringContaining('E.164') });
  });

  it('accepts a minimal record and refuses unknown fields and a 2.x version', () => {
    expect(customerRecordSchema.safeParse({ standardVersion: STANDARD_VERSION, source: { recordId: 'x' } }).success).toBe(true);
    expect(customerRecordSchema.safeParse({ standardVersion: STANDARD_VERSION, source: { recordId: 'x' }, shoeSize: 9 }).success).toBe(false);
    expect(customerRecordSchema.safeParse({ standardVersion: '2.0.0', source: { recordId: 'x' } }).success).toBe(false);
    expect(customerRecordSchema.safeParse({ standardVersion: STANDARD_VERSION, source: { recordId: 'x' }, addresses: [{ country: 'XX' }] }).success).toBe(false);
  });
});

describe('the standard over HTTP', cliTimeout, () => {
  let ex: TestExchange;
  beforeAll(async () => {
    ex = await createTestExchange();
  });
  afterAll(() => ex.close());

  it('lists the standards and serves the JSON Schema and the dictionary, without a key', async () => {
    const index = (await (await ex.request('/v1/standards')).json()) as { items: { name: string; version: string }[]; codeLists: Record<string, string[]> };
    expect(index.items).toEqual([
      expect.objectContaining({ name: 'customer', version: STANDARD_VERSION }),
      expect.objectContaining({ name: 'consent', version: '1.0.0', schema: '/v1/standards/consent/1' }),
    ]);
    expect(index.codeLists.purpose).toContain('marketing');
    const schema = await ex.request('/v1/standards/customer/1');
    expect(schema.headers.get('content-type')).toContain('application/schema+json');
    expect(await schema.json()).toEqual(JSON.parse(readFileSync(`${standardsDir}customer/v1/schema.json`, 'utf8')));
    const markdown = await ex.request('/v1/standards/customer/1/dictionary', { headers: { accept: 'text/markdown' } });
    expect(await markdown.text()).toBe(readFileSync(`${standardsDir}customer/v1/README.md`, 'utf8'));
    const json = (await (await ex.request('/v1/standards/customer/1/dictionary')).json()) as { items: { path: string }[] };
    expect(json.items.map((e) => e.path)).toContain('birthDate');
    // The consent token's claims are published the same way.
    expect(await (await ex.request('/v1/standards/consent/1')).json()).toEqual(JSON.parse(readFileSync(`${standardsDir}consent/v1/claims.schema.json`, 'utf8')));
    const consentMarkdown = await ex.request('/v1/standards/consent/1/dictionary', { headers: { accept: 'text/markdown' } });
    expect(await consentMarkdown.text()).toBe(readFileSync(`${standardsDir}consent/v1/README.md`, 'utf8'));
    const claims = (await (await ex.request('/v1/standards/consent/1/dictionary')).json()) as { items: { claim: string }[] };
    expect(claims.items.map((e) => e.claim)).toEqual(['iss', 'sub', 'aud', 'iat', 'nbf', 'exp', 'jti', 'purpose', 'lawful_basis', 'authorization_details']);
  });

  it('answers 404 for a standard it does not have', async () => {
    const response = await ex.request('/v1/standards/customer/2');
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
  });

  it('prints them from the CLI', async () => {
    const dictionary = await runCx(['standards'], {});
    expect(dictionary.code).toBe(0);
    expect(dictionary.stdout).toContain('| `birthDate` |');
    const schema = await runCx(['standards', '--json'], {});
    expect(JSON.parse(schema.stdout).title).toContain(STANDARD_VERSION);
  });
});
