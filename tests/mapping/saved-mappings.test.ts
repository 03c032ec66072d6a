/** A partner's own mappings: saved (validated, audited), listed beside the shipped ones, used by its datasets only. On both engines. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectAuditEvents } from '../../src/store/audit-events.js';
import { createTestExchange, type TestExchange } from '../helpers/app.js';
import { engineUnderTest } from '../helpers/database.js';

type Json = Record<string, unknown>;
const own = {
  name: 'acme-core',
  description: 'Acme core banking export',
  source: { format: 'csv', recordId: 'cust_no' },
  rules: [
    { target: 'name.full', from: 'cust_name', transforms: ['trim', 'required'] },
    { target: 'emails[main].address', from: 'mail', transforms: ['email'] },
  ],
};

describe(`saved mappings on ${engineUnderTest}`, () => {
  let ex: TestExchange;
  let acme: { key: string; partner: { id: string } };
  let globex: { key: string };
  beforeAll(async () => {
    ex = await createTestExchange();
    acme = await ex.addPartner('acme');
    globex = await ex.addPartner('globex');
  });
  afterAll(() => ex.close());

  it('are validated, saved, audited, replaced and listed beside the shipped ones', async () => {
    const bad = await ex.request('/v1/mappings', { method: 'POST', key: acme.key, json: { ...own, rules: [{ target: 'name.nickname', from: 'x' }] } });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toMatch(/"\/rules\/0/);
    const shippedName = await ex.request('/v1/mappings', { method: 'POST', key: acme.key, json: { ...own, name: 'febrl' } });
    expect(shippedName.status).toBe(409);
    const saved = await ex.request('/v1/mappings', { method: 'POST', key: acme.key, json: own });
    expect([saved.status, saved.headers.get('location')]).toEqual([201, '/v1/mappings/acme-core']);
    expect((await ex.request('/v1/mappings', { method: 'POST', key: acme.key, json: own })).status).toBe(200);
    const events = await selectAuditEvents(ex.db);
    expect(events.filter((e) => e.targetId === 'acme-core').map((e) => e.action)).toEqual(['mapping.create', 'mapping.replace']);
    const listed = (await (await ex.request('/v1/mappings', { key: acme.key })).json()) as { items: Json[] };
    expect(listed.items).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'febrl', origin: 'shipped' }), expect.objectContaining({ name: 'acme-core', origin: 'partner', format: 'csv' })]));
    // Another partner does not see it.
    const theirs = (await (await ex.request('/v1/mappings', { key: globex.key })).json()) as { items: Json[] };
    expect(theirs.items.some((m) => m.name === 'acme-core')).toBe(false);
    expect((await ex.request('/v1/mappings/acme-core', { key: globex.key })).status).toBe(404);
    expect(((await (await ex.request('/v1/mappings/acme-core', { key: acme.key })).json()) as Json).name).toBe('acme-core');
  });

  it('datasets and uploads name it; another partner cannot', async () => {
    const created = await ex.request('/v1/datasets', { method: 'POST', key: acme.key, json: { name: 'core', defaultMapping: 'acme-core' } });
    expect(created.status).toBe(201);
    const datasetId = String(((await created.json()) as Json).id);
    const upload = await ex.request(`/v1/datasets/${datasetId}/uploads`, { method: 'POST', key: acme.key, headers: { 'content-type': 'text/csv' }, body: 'cust_no,cust_name,mail\n7,Ann Lee,ann@example.com\n' });
    expect(upload.status).toBe(201);
    expect(await upload.json()).toMatchObject({ mapping: 'acme-core', accepted: 1 });
    const record = (await (await ex.request(`/v1/datasets/${datasetId}/records/7`, { key: acme.key })).json()) as { record: Json };
    expect(record.record).toMatchObject({ name: { full: 'Ann Lee' }, emails: [{ address: 'ann@example.com' }] });
    const theirs = await ex.request('/v1/datasets', { method: 'POST', key: globex.key, json: { name: 'x', defaultMapping: 'acme-core' } });
    expect(theirs.status).toBe(400);
  });
});
