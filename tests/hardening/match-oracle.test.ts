/**
 * A match-only token is not a way to read fields it does not grant: explanations name only
 * disclosed comparisons, scores can be withheld, criteria must identify, probing has a budget,
 * and dates are never guessed day-first. On both engines.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKey, type MintOptions } from '../../src/consent/mint.js';
import { discloseExplanation } from '../../src/match/disclosure.js';
import { selectAuditEvents } from '../../src/store/audit-events.js';
import { createTestExchange, grantToken, type TestExchange } from '../helpers/app.js';
import { engineUnderTest } from '../helpers/database.js';
import { sharedData } from '../helpers/mapping.js';

type Json = Record<string, unknown>;
type Result = { sourceId: string; probability?: number; matchWeight?: number; grade: string; explanation: { comparison: string; level: string; weight?: number }[] };

describe(`match answers bounded by the grant on ${engineUnderTest}`, () => {
  let ex: TestExchange;
  let acme: { key: string; partner: { id: string } };
  let globex: { key: string; partner: { id: string } };
  let key: Awaited<ReturnType<typeof generateSigningKey>>['privateJwk'];

  const mint = (options: Partial<MintOptions> = {}) => grantToken(ex, { privateJwk: key, grantor: acme, grantee: globex }, { actions: ['match'], fields: [], minGrade: 'possible', ...options });
  const match = async (body: Json, token: string) => {
    const response = await ex.request('/v1/match', { method: 'POST', key: globex.key, json: { purpose: 'fraud_prevention', ...body }, headers: { 'consent-token': token } });
    return { status: response.status, body: (await response.json()) as Json };
  };

  beforeAll(async () => {
    ex = await createTestExchange({ MATCH_PROBE_BUDGET: '3' });
    acme = await ex.addPartner('acme');
    globex = await ex.addPartner('globex');
    const created = (await (await ex.request('/v1/datasets', { method: 'POST', key: acme.key, json: { name: 'febrl', defaultMapping: 'febrl' } })).json()) as Json;
    const upload = await ex.request(`/v1/datasets/${String(created.id)}/uploads`, { method: 'POST', key: acme.key, headers: { 'content-type': 'text/csv' }, body: readFileSync(`${sharedData}febrl/dataset1.csv`, 'utf8') });
    expect(upload.status).toBe(201);
    key = (await generateSigningKey('EdDSA', 'acme-1')).privateJwk;
    const { d: _d, ...publicJwk } = key;
    expect((await ex.request('/v1/partners/me/jwks', { method: 'PUT', key: acme.key, json: { keys: [publicJwk] } })).status).toBe(200);
  });
  afterAll(() => ex.close());

  it('a match-only token with no fields: the explanation names no comparison, whatever was guessed', async () => {
    // rec-122-org is Lachlan Berry, born 1999-02-19: guess the birth date with day and month swapped.
    const { status, body } = await match({ criteria: { given: 'lachlan', family: 'berry', birthDate: '1999-02-19' } }, await mint());
    expect(status).toBe(200);
    const [first] = body.results as Result[];
    // Lachlan Berry's two records (rec-122-org and its duplicate) tie on these criteria.
    expect(first!.sourceId).toMatch(/^rec-122-(org|dup-0)$/);
    expect(first!.explanation).toEqual([{ comparison: 'undisclosed', level: 'undisclosed', weight: expect.any(Number) }]);
    const swapped = await match({ criteria: { given: 'lachlan', family: 'berry', birthDate: '1999-02-12' } }, await mint());
    const levels = (swapped.body.results as Result[]).flatMap((r) => r.explanation.map((e) => e.level));
    expect(levels.every((level) => level === 'undisclosed')).toBe(true);
  });

  it('granted fields are explained, the rest summed into one undisclosed weight', () => {
    const explanation = [
      { comparison: 'given_name', level: 'exact', weight: 3 },
      { comparison: 'family_name', level: 'exact', weight: 4 },
      { comparison: 'birth_date', level: 'day_month_swapped', weight: 2.5 },
      { comparison: 'phone', level: 'same_last_7_digits', weight: 1.25 },
    ];
    expect(discloseExplanation(explanation, ['name'], true)).toEqual([
      { comparison: 'given_name', level: 'exact', weight: 3 },
      { comparison: 'family_name', level: 'exact', weight: 4 },
      { comparison: 'undisclosed', level: 'undisclosed', weight: 3.75 },
    ]);
    expect(discloseExplanation(explanation, ['name.family', 'phones'], false)).toEqual([
      { comparison: 'family_name', level: 'exact' },
      { comparison: 'phone', level: 'same_last_7_digits' },
    ]);
  });

  it('a grades-only token answers grades without any number', async () => {
    const { status, body } = await match({ criteria: { given: 'lachlan', family: 'berry', birthDate: '1999-02-19' } }, await mint({ scores: false, actions: ['match', 'disclose'], fields: ['name'] }));
    expect(status).toBe(200);
    const results = body.results as Result[];
    expect(results[0]).toMatchObject({ sourceId: expect.stringMatching(/^rec-122-(org|dup-0)$/), grade: 'certain' });
    for (const result of results) {
      expect(result.probability).toBeUndefined();
      expect(result.matchWeight).toBeUndefined();
      expect(result.explanation.every((e) => e.weight === undefined && e.comparison !== 'undisclosed')).toBe(true);
    }
    expect(body.candidates).toBe(results.length);
  });

  it('criteria must hold a name and one other identifier', async () => {
    const token = await mint();
    for (const criteria of [{ family: 'berry' }, { email: 'someone@example.com' }, { birthDate: '1999-02-19' }, { given: 'lachlan', locality: 'sydney' }]) {
      const { status, body } = await match({ criteria }, token);
      expect(status, JSON.stringify(criteria)).toBe(400);
      expect(JSON.stringify(body.errors)).toMatch(/criteria must hold a name|at least one of birthDate/);
    }
  });

  it('varying the criteria around one record runs out of budget: refused with 429 and audited', async () => {
    const token = await mint({ jti: 'probe-budget-1' });
    const dates = ['1999-02-19', '1999-02-18', '1999-02-17', '1999-02-16', '1999-02-15'];
    const statuses: number[] = [];
    for (const birthDate of dates) statuses.push((await match({ criteria: { given: 'lachlan', family: 'berry', birthDate } }, token)).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    // Asking again what was already asked is no new probe: it is answered; anything new is not.
    expect((await match({ criteria: { given: 'lachlan', family: 'berry', birthDate: '1999-02-19' } }, token)).status).toBe(200);
    const more = await match({ criteria: { given: 'lachlan', family: 'berry', birthDate: '1999-02-13' } }, token);
    expect([more.status, more.body.reason]).toEqual([429, 'probe_budget_exhausted']);
    const refusals = (await selectAuditEvents(ex.db, { action: 'match.refuse' })).filter((e) => e.targetId === 'probe-budget-1');
    expect(refusals.length).toBe(3);
    // Each refusal is logged with the verification that preceded it; no query event for it.
    const queries = (await selectAuditEvents(ex.db, { action: 'match.query' })).filter((e) => e.targetId === 'probe-budget-1');
    expect(queries.length).toBe(4);
    expect(refusals[0]).toMatchObject({ outcome: 'denied', partnerId: acme.partner.id, details: { reason: 'probe_budget_exhausted', budget: 3 } });
    expect(JSON.stringify(refusals)).not.toMatch(/lachlan|berry|1999|rec-122/);
    // Another token has its own budget.
    expect((await match({ criteria: { given: 'lachlan', family: 'berry', birthDate: '1999-02-14' } }, await mint())).status).toBe(200);
  });

  it('dates in criteria: ISO as is; day-or-month-first only with dateOrder', async () => {
    const token = await mint();
    const ambiguous = await match({ criteria: { given: 'brian', family: 'haligan', birthDate: '05/01/1967' } }, token);
    expect(ambiguous.status).toBe(400);
    expect(ambiguous.body.errors).toEqual([{ path: '/criteria/birthDate', message: expect.stringMatching(/day first or month first.*dateOrder/) }]);
    const monthFirst = await match({ criteria: { given: 'brian', family: 'haligan', birthDate: '03/15/1981' }, dateOrder: 'MDY' }, token);
    expect(monthFirst.status).toBe(200);
    const wrongOrder = await match({ criteria: { given: 'brian', family: 'haligan', birthDate: '03/15/1981' }, dateOrder: 'DMY' }, token);
    expect(wrongOrder.status).toBe(400);
    expect((await match({ criteria: { given: 'brian', family: 'haligan', birthDate: '1981-03-15' } }, token)).status).toBe(200);
  });
});
