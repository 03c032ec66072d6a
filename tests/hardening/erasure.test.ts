/** An erasure stays: the next upload of the same export does not bring the record back. On both engines. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectAuditEvents } from '../../src/store/audit-events.js';
import { createTestExchange, type TestExchange } from '../helpers/app.js';
import { engineUnderTest } from '../helpers/database.js';

type Json = Record<string, unknown>;
const header = 'rec_id, given_name, surname, street_number, address_1, address_2, suburb, postcode, state, date_of_birth, soc_sec_id';
const row = (id: string, given: string) => `${id}, ${given}, smith, 1, main street, , sydney, 2000, nsw, 19800102, 1234567`;
const exportFile = [header, ...['ann', 'bob', 'cat', 'dan', 'eve', 'fay', 'gus', 'hal', 'ida', 'jon', 'kim', 'lou'].map((g, i) => row(`rec-${i + 1}`, g))].join('\n');

describe(`erasure tombstones on ${engineUnderTest}`, () => {
  let ex: TestExchange;
  let acme: { key: string };
  let datasetId: string;
  const upload = async (body = exportFile) => {
    const response = await ex.request(`/v1/datasets/${datasetId}/uploads`, { method: 'POST', key: acme.key, headers: { 'content-type': 'text/csv' }, body });
    return { status: response.status, body: (await response.json()) as Json & { report: Json & { issues: Json[] } } };
  };
  const current = async (sourceId: string) => (await ex.request(`/v1/datasets/${datasetId}/records/${sourceId}`, { key: acme.key })).status;

  beforeAll(async () => {
    ex = await createTestExchange();
    acme = await ex.addPartner('acme');
    datasetId = String(((await (await ex.request('/v1/datasets', { method: 'POST', key: acme.key, json: { name: 'crm', defaultMapping: 'febrl' } })).json()) as Json).id);
    expect((await upload()).status).toBe(201);
  });
  afterAll(() => ex.close());

  it('an erased source id is refused on the next upload and reported as erased, with no value or id', async () => {
    expect((await ex.request(`/v1/datasets/${datasetId}/records/rec-5`, { method: 'DELETE', key: acme.key })).status).toBe(200);
    const again = await upload();
    expect(again.status).toBe(201);
    expect(again.body).toMatchObject({ accepted: 11, rejected: 1, inserted: 0, report: { erased: 1 } });
    const [issue] = again.body.report.issues;
    expect(issue).toEqual({ row: 5, column: 'rec_id', value: null, field: 'source.recordId', reason: expect.stringMatching(/^erased: /), severity: 'rejected' });
    expect(await current('rec-5')).toBe(404);
    const stored = await ex.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM customer_records WHERE dataset_id = $1 AND source_id = 'rec-5' AND record IS NOT NULL`, [datasetId]);
    expect(stored).toEqual([{ n: 0 }]);
    // The tombstone is a keyed pseudonym: neither the id nor its plain hash.
    const [tombstone] = await ex.db.query<{ source_key: string }>('SELECT source_key FROM erasure_tombstones WHERE dataset_id = $1', [datasetId]);
    expect(tombstone!.source_key).not.toContain('rec-5');
    expect(tombstone!.source_key).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('a lifted erasure lets the record back, audited', async () => {
    const lift = await ex.request(`/v1/datasets/${datasetId}/erasures/lift`, { method: 'POST', key: acme.key, json: { sourceIds: ['rec-5', 'never-erased'] } });
    expect([lift.status, await lift.json()]).toEqual([200, { lifted: 1 }]);
    const back = await upload();
    expect(back.body).toMatchObject({ accepted: 12, rejected: 0, inserted: 1 });
    expect(await current('rec-5')).toBe(200);
    const [event] = await selectAuditEvents(ex.db, { action: 'record.erasure_lift' });
    expect(event).toMatchObject({ targetId: datasetId, details: { requested: 2, lifted: 1 } });
    expect(JSON.stringify(event)).not.toContain('rec-5');
  });

  it('another partner cannot lift an erasure: 404', async () => {
    const globex = await ex.addPartner('globex');
    const response = await ex.request(`/v1/datasets/${datasetId}/erasures/lift`, { method: 'POST', key: globex.key, json: { sourceIds: ['rec-5'] } });
    expect(response.status).toBe(404);
  });
});
