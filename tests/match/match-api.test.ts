import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKey, type MintOptions } from '../../src/consent/mint.js';
import { matchKeys } from '../../src/match/features.js';
import { defaultBlocking } from '../../src/match/blocking.js';
import { STANDARD_VERSION, type CustomerRecord } from '../../src/standard/customer.js';
import { selectAuditEvents } from '../../src/store/audit-events.js';
import { probeSql, queryRules } from '../../src/store/candidates.js';
import { createTestExchange, grantToken, type TestExchange } from '../helpers/app.js';
import { engineUnderTest } from '../helpers/database.js';
import { sharedData } from '../helpers/mapping.js';

type Json = Record<string, unknown>;
type Result = { sourceId: string; probability: number; grade: string; explanation: { comparison: string; level: string; weight: number }[]; record?: Json; textScore?: number };

describe(`single-query matching on ${engineUnderTest}`, () => {
  let ex: TestExchange;
  let acme: { key: string; partner: { id: string } };
  let globex: { key: string; partner: { id: string } };
  let dataset: string;
  let key: Awaited<ReturnType<typeof generateSigningKey>>['privateJwk'];

  const mint = (options: Partial<MintOptions> = {}) => grantToken(ex, { privateJwk: key, grantor: acme, grantee: globex }, { actions: ['match', 'disclose'], fields: ['name', 'birthDate'], ...options });
  const match = async (body: Json, token?: string, query = '') => {
    const response = await ex.request(`/v1/match${query}`, { method: 'POST', key: globex.key, json: { purpose: 'fraud_prevention', ...body }, headers: token ? { 'consent-token': token } : {} });
    return { status: response.status, type: response.headers.get('content-type'), body: (await response.json()) as Json };
  };

  beforeAll(async () => {
    ex = await createTestExchange();
    acme = await ex.addPartner('acme');
    globex = await ex.addPartner('globex');
    const created = (await (await ex.request('/v1/datasets', { method: 'POST', key: acme.key, json: { name: 'febrl', defaultMapping: 'febrl' } })).json()) as Json;
    dataset = String(created.id);
    const upload = await ex.request(`/v1/datasets/${dataset}/uploads`, { method: 'POST', key: acme.key, headers: { 'content-type': 'text/csv' }, body: readFileSync(`${sharedData}febrl/dataset1.csv`, 'utf8') });
    expect(upload.status).toBe(201);
    const withdrawn: CustomerRecord = {
      standardVersion: STANDARD_VERSION, source: { recordId: 'withdrawn-1' }, name: { given: 'Zebedee', family: 'Quartermaine' }, birthDate: '1970-03-04',
      consents: [{ purpose: 'fraud_prevention', status: 'withdrawn' }],
    };
    const canonical = await ex.request(`/v1/datasets/${dataset}/uploads?mapping=canonical`, { method: 'POST', key: acme.key, headers: { 'content-type': 'application/x-ndjson' }, body: JSON.stringify(withdrawn) });
    expect(canonical.status).toBe(201);
    key = (await generateSigningKey('EdDSA', 'acme-1')).privateJwk;
    const { d: _d, ...publicJwk } = key;
    expect((await ex.request('/v1/partners/me/jwks', { method: 'PUT', key: acme.key, json: { keys: [publicJwk] } })).status).toBe(200);
  });
  afterAll(() => ex.close());

  it('finds a customer from criteria with typos, graded, explained and cut down to the granted fields', async () => {
    // rec-122-org is Lachlan Berry, born 1999-02-19, postcode 4814: asked with a typo and another date format.
    const { status, body } = await match({ criteria: { given: 'lachlan', family: 'bery', birthDate: '19/02/1999', postcode: '4814', country: 'AU' }, dateOrder: 'DMY' }, await mint());
    expect(status).toBe(200);
    const results = body.results as Result[];
    expect(results[0]).toMatchObject({ sourceId: 'rec-122-org', grade: 'certain', record: { standardVersion: STANDARD_VERSION, source: { recordId: 'rec-122-org' }, name: { given: 'Lachlan', family: 'Berry' }, birthDate: '1999-02-19' } });
    expect(Object.keys(results[0]!.record!).sort()).toEqual(['birthDate', 'name', 'source', 'standardVersion']);
    const levels = Object.fromEntries(results[0]!.explanation.map((e) => [e.comparison, e.level]));
    // The token discloses names and the birth date: the postcode's comparison is summed as undisclosed.
    // Bery and Berry are one spelling with a letter doubled (the transliterated level).
    expect(levels).toEqual({ given_name: 'exact', family_name: 'transliterated', birth_date: 'exact', undisclosed: 'undisclosed' });
    expect(results[0]!.explanation.every((e) => e.weight > 0)).toBe(true);
    expect(results[0]!.probability).toBeGreaterThan(0.99);
    expect(results.every((r, i) => i === 0 || r.probability <= results[i - 1]!.probability || r.grade !== results[i - 1]!.grade)).toBe(true);
  });

  it('returns no fields without disclose, and no more than max_results, no weaker than min_grade', async () => {
    const matchOnly = await match({ criteria: { family: 'berry', postcode: '4814' } }, await mint({ actions: ['match'] }));
    expect(matchOnly.status).toBe(200);
    expect((matchOnly.body.results as Result[]).every((r) => r.record === undefined)).toBe(true);
    const capped = await match({ criteria: { family: 'berry', postcode: '4814' }, limit: 50 }, await mint({ maxResults: 1, minGrade: 'possible' }));
    expect((capped.body.results as Result[]).length).toBeLessThanOrEqual(1);
    const certainOnly = await match({ criteria: { given: 'lachlan', family: 'berry', birthDate: '1999-02-19' } }, await mint({ minGrade: 'certain' }));
    expect((certainOnly.body.results as Result[]).every((r) => r.grade === 'certain')).toBe(true);
  });

  it('ranks by free text with fuse.js', async () => {
    // A name alone is weaker evidence: ask for possible matches too.
    const { body } = await match({ q: 'lachlan berry 1999', criteria: { birthDate: '1999-02-19' } }, await mint({ minGrade: 'possible' }));
    const results = body.results as Result[];
    expect(results[0]).toMatchObject({ sourceId: expect.stringMatching(/^rec-122-/) });
    expect(results[0]!.textScore).toBeLessThan(0.5);
  });

  it('answers a FHIR Bundle on request', async () => {
    const { type, body } = await match({ criteria: { given: 'lachlan', family: 'berry', birthDate: '1999-02-19' } }, await mint(), '?format=fhir');
    expect(type).toBe('application/fhir+json');
    expect(body).toMatchObject({ resourceType: 'Bundle', type: 'searchset' });
    const [entry] = body.entry as Json[];
    expect(entry).toMatchObject({
      resource: { resourceType: 'Patient', identifier: [{ value: expect.stringMatching(/^rec-122-/) }], birthDate: '1999-02-19' },
      search: { mode: 'match', extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/match-grade', valueCode: 'certain' }] },
    });
  });

  it('never returns a record whose own consent refuses the purpose', async () => {
    const { body } = await match({ criteria: { given: 'zebedee', family: 'quartermaine', birthDate: '1970-03-04' } }, await mint());
    expect(body.results).toEqual([]);
  });

  it('refuses a match without a valid token or for another purpose, and says which criterion it cannot read', async () => {
    expect((await match({ criteria: { family: 'berry', postcode: '4814' } })).status).toBe(401);
    const other = await match({ criteria: { family: 'berry', postcode: '4814' } }, await mint({ purpose: 'marketing', lawfulBasis: 'consent' }));
    expect([other.status, other.body.reason]).toEqual([403, 'purpose_mismatch']);
    const bad = await match({ criteria: { family: 'berry', birthDate: '31/02/1999' }, dateOrder: 'DMY' }, await mint());
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual([{ path: '/criteria/birthDate', message: expect.any(String) }]);
  });

  it('audits each query with the jti, without the criteria values', async () => {
    const token = await mint({ jti: 'match-audit-1' });
    await match({ criteria: { given: 'lachlan', family: 'berry', postcode: '4814' } }, token);
    const [event] = (await selectAuditEvents(ex.db, { action: 'match.query' })).filter((e) => e.targetId === 'match-audit-1');
    expect(event).toMatchObject({ partnerId: acme.partner.id, details: { jti: 'match-audit-1', grantee: globex.partner.id, criteria: ['given', 'family', 'postcode'] } });
    expect(JSON.stringify(event!.details)).not.toContain('lachlan');
    // Results are named by keyed pseudonyms, never by source id.
    expect((event!.details as { results: { record: string }[] }).results[0]!.record).toMatch(/^rec_[A-Za-z0-9_-]{32}$/);
    expect(JSON.stringify(event)).not.toMatch(/rec-\d+-/);
  });

  it('takes from a crowded block the records whose names are most alike, at least as many as the query asks for', async () => {
    // 24 strangers and 3 near-namesakes born on one day: the birth-date rule finds 27 and keeps 3.
    const created = (await (await ex.request('/v1/datasets', { method: 'POST', key: acme.key, json: { name: 'crowd' } })).json()) as Json;
    const born = (recordId: string, given: string, family: string): CustomerRecord => ({ standardVersion: STANDARD_VERSION, source: { recordId }, name: { given, family }, birthDate: '1950-05-05' });
    const strangers = Array.from({ length: 24 }, (_, i) => born(`s${i}`, ['Tobias', 'Wanda', 'Ulrich', 'Xenia'][i % 4]!, `Blumqvist${String.fromCharCode(97 + i)}`));
    const near = [born('n1', 'Maria', 'Gonzalez'), born('n2', 'Mario', 'Gonzaga'), born('n3', 'Marie', 'Gonsales')];
    const body = [...strangers.slice(0, 12), ...near, ...strangers.slice(12)].map((r) => JSON.stringify(r)).join('\n');
    const upload = await ex.request(`/v1/datasets/${created.id}/uploads?mapping=canonical`, { method: 'POST', key: acme.key, headers: { 'content-type': 'application/x-ndjson' }, body });
    expect(upload.status).toBe(201);
    const probe = matchKeys({ standardVersion: STANDARD_VERSION, source: { recordId: 'q' }, name: { given: 'Maria', family: 'Gonzales' }, birthDate: '1950-05-05' });
    const found = async (perQuery: number, perRule?: number) => {
      const { sql, params } = probeSql(probe, 'r.partner_id = $1 AND r.valid_to IS NULL AND r.dataset_id = $2::uuid', 3, { ...defaultBlocking(), perQuery }, ['birth_date'], perRule);
      return (await ex.db.query<{ source_id: string }>(sql, [acme.partner.id, created.id, ...params])).map((row) => row.source_id);
    };
    expect(await found(3)).toEqual(['n1', 'n3', 'n2']);
    // A query asking for more results keeps more of the block.
    expect(await found(3, 5)).toHaveLength(5);
    expect((await found(3, 5)).slice(0, 3)).toEqual(['n1', 'n3', 'n2']);
  });

  it('retrieves candidates with an index for every blocking rule', async () => {
    const probe: CustomerRecord = {
      standardVersion: STANDARD_VERSION, source: { recordId: 'q' }, name: { given: 'lachlan', family: 'berry' }, birthDate: '1999-02-19',
      emails: [{ address: 'l@example.com' }], phones: [{ number: '+61412345678' }], addresses: [{ postcode: '4814' }], identifiers: [{ scheme: 'social_security', value: '7364009' }],
    };
    const keys = matchKeys(probe);
    const { used, batchOnly } = queryRules(defaultBlocking());
    // The rules an index serves; the others (keys computed from the record, initials alone) are batch linkage's.
    expect(used).toEqual(['phonetic_family_birth_year', 'postcode_similar_given', 'birth_date', 'similar_full_name', 'phonetic_names', 'swapped_names', 'email', 'phone', 'identifier']);
    expect(batchOnly).toContain('birth_day_initials');
    // The fuzzy-name rule is for probes with nothing else.
    const nameOnly = matchKeys({ standardVersion: STANDARD_VERSION, source: { recordId: 'q' }, name: probe.name });
    for (const name of used) {
      const rule = { name };
      const { sql, params, rules } = probeSql(name === 'similar_full_name' ? nameOnly : keys, 'r.partner_id = $1 AND r.valid_to IS NULL', 2, defaultBlocking(), [name]);
      expect(rules).toEqual([name]);
      const plan = await ex.db.transaction(async (tx) => {
        // Tiny tables favour sequential scans; forbidding them shows whether an index can serve the rule.
        await tx.exec('SET LOCAL enable_seqscan = off');
        return (await tx.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`, [acme.partner.id, ...params])).map((row) => row['QUERY PLAN']).join('\n');
      });
      expect(plan, rule.name).toMatch(/Index Scan|Bitmap Index Scan|Index Only Scan/);
      expect(plan, rule.name).not.toMatch(/Seq Scan on customer_records/);
    }
  });
});
