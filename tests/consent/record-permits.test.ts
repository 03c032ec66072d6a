/**
 * cx_record_permits (migrations 016 and 017) walks a record's consents without a query inside, and
 * decides a record without consents in the scan; it must decide exactly as 015's SELECT over
 * jsonb_array_elements did, on random consents.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/store/database.js';
import { createTestDatabase, engineUnderTest } from '../helpers/database.js';

const previous = readFileSync(new URL('../../src/store/migrations/015_record_permits_plpgsql.sql', import.meta.url), 'utf8').replace(
  'FUNCTION cx_record_permits(',
  'FUNCTION cx_record_permits_015(',
);

const purpose = fc.constantFrom('marketing', 'fraud_prevention', 'analytics');
const instant = fc.constantFrom('2020-01-01T00:00:00Z', '2024-06-01T12:00:00Z', '2024-06-01T12:00:00.5Z', '2999-01-01T00:00:00Z');
const consent = fc.record(
  { purpose, status: fc.constantFrom('granted', 'withdrawn', 'refused'), capturedAt: instant, expiresAt: instant },
  { requiredKeys: ['purpose', 'status'] },
);
const record = fc.oneof(
  fc.constant({ name: { given: 'x' } }),
  fc.array(consent, { maxLength: 6 }).map((consents) => ({ name: { given: 'x' }, consents })),
);

describe(`a record's consent to a purpose on ${engineUnderTest}`, () => {
  let db: Database;
  beforeAll(async () => {
    db = await createTestDatabase();
    await db.exec(previous);
  });
  afterAll(() => db.close());

  it('is decided as before: the latest consent for the purpose, granted and not expired; none, as the purpose allows', async () => {
    await fc.assert(
      fc.asyncProperty(record, purpose, fc.boolean(), async (value, asked, optIn) => {
        const [row] = await db.query<{ now: boolean; before: boolean }>(
          'SELECT cx_record_permits($1::jsonb, $2, $3) AS now, cx_record_permits_015($1::jsonb, $2, $3) AS before',
          [value, asked, optIn],
        );
        expect(row!.now).toBe(row!.before);
      }),
      { numRuns: 400 },
    );
  });

  it('is inlined into the query that calls it: a record without consents costs no function call', async () => {
    const plan = await db.query<{ 'QUERY PLAN': string }>(
      "EXPLAIN (VERBOSE, COSTS OFF) SELECT cx_record_permits(v.record, 'marketing', false) FROM (VALUES ('{}'::jsonb), ('{\"consents\": []}'::jsonb)) AS v(record)",
    );
    const text = plan.map((row) => row['QUERY PLAN']).join('\n');
    expect(text).toContain('CASE WHEN');
    expect(text).toContain('cx_record_consents_permit(');
    expect(text).not.toContain('cx_record_permits(');
  });

  it('lets the later of two consents captured at the same time decide, and one with a time outrank one without', async () => {
    const permits = async (consents: unknown[]) =>
      (await db.query<{ permits: boolean }>("SELECT cx_record_permits($1::jsonb, 'marketing', true) AS permits", [{ consents }]))[0]!.permits;
    const at = '2024-06-01T12:00:00Z';
    expect(await permits([{ purpose: 'marketing', status: 'granted', capturedAt: at }, { purpose: 'marketing', status: 'withdrawn', capturedAt: at }])).toBe(false);
    expect(await permits([{ purpose: 'marketing', status: 'withdrawn', capturedAt: at }, { purpose: 'marketing', status: 'granted', capturedAt: at }])).toBe(true);
    expect(await permits([{ purpose: 'marketing', status: 'granted', capturedAt: at }, { purpose: 'marketing', status: 'withdrawn' }])).toBe(true);
    expect(await permits([])).toBe(false);
  });
});
