/**
 * Per-dataset models in the service, on both engines: a partner trains one on its own dataset in
 * the background (another partner cannot see it, train on its data or name it), names it for the
 * dataset, and matches and linkage jobs in that dataset are scored by it and say so, in their
 * answers and in the audit log.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKey, type MintOptions } from '../../src/consent/mint.js';
import { defaultModel, parseModel } from '../../src/match/model.js';
import { finishModel, insertModel } from '../../src/store/models.js';
import { runningJobs } from '../../src/services/create-linkage-job.js';
import { selectAuditEvents } from '../../src/store/audit-events.js';
import { createTestExchange, grantToken, type TestExchange } from '../helpers/app.js';
import { engineUnderTest } from '../helpers/database.js';
import { sharedData } from '../helpers/mapping.js';

type Json = Record<string, unknown>;

describe(`per-dataset match models on ${engineUnderTest}`, () => {
  let ex: TestExchange;
  let acme: { key: string; partner: { id: string } };
  let globex: { key: string; partner: { id: string } };
  let dataset: string;
  let tiny: string;
  let signing: Awaited<ReturnType<typeof generateSigningKey>>['privateJwk'];
  const json = async (response: Response) => ({ status: response.status, body: (await response.json()) as Json });
  /** Acme's match-only token for Globex, and Globex's query with it. */
  const mint = (options: Partial<MintOptions>) => grantToken(ex, { privateJwk: signing, grantor: acme, grantee: globex }, { actions: ['match'], fields: [], maxResults: 10, ...options });
  const matchWith = async (token: string, criteria: Json) =>
    json(await ex.request('/v1/match', { method: 'POST', key: globex.key, headers: { 'consent-token': token }, json: { purpose: 'fraud_prevention', criteria } }));

  beforeAll(async () => {
    ex = await createTestExchange();
    acme = await ex.addPartner('acme');
    globex = await ex.addPartner('globex');
    const create = async (name: string) => String(((await (await ex.request('/v1/datasets', { method: 'POST', key: acme.key, json: { name, defaultMapping: 'febrl' } })).json()) as Json).id);
    dataset = await create('febrl1');
    const csv = readFileSync(`${sharedData}febrl/dataset1.csv`, 'utf8');
    expect((await ex.request(`/v1/datasets/${dataset}/uploads`, { method: 'POST', key: acme.key, headers: { 'content-type': 'text/csv' }, body: csv })).status).toBe(201);
    tiny = await create('tiny');
    signing = (await generateSigningKey('EdDSA', 'acme-1')).privateJwk;
    const { d: _d, ...publicJwk } = signing;
    await ex.request('/v1/partners/me/jwks', { method: 'PUT', key: acme.key, json: { keys: [publicJwk] } });
  });
  afterAll(() => ex.close());

  it('trains a model on the owner\'s dataset, names it for the dataset, and scores matches with it', async () => {
    const started = await ex.request('/v1/models', { method: 'POST', key: acme.key, json: { datasetId: dataset } });
    const created = (await started.json()) as Json;
    expect([started.status, created.status, started.headers.get('location')]).toEqual([202, 'training', `/v1/models/${String(created.id)}`]);
    // Not ready yet: it cannot be named.
    const early = await json(await ex.request(`/v1/datasets/${dataset}/model`, { method: 'PUT', key: acme.key, json: { modelId: created.id } }));
    expect([early.status, early.body.reason]).toEqual([409, 'model_training']);
    await Promise.all(runningJobs);
    const ready = await json(await ex.request(`/v1/models/${String(created.id)}`, { key: acme.key }));
    expect(ready.body).toMatchObject({ status: 'ready', datasetId: dataset, error: null });
    const model = parseModel(ready.body.model);
    expect(model.trainedOn).toMatchObject({ passes: [expect.objectContaining({ blockedOn: 'blocked on full_name' }), expect.objectContaining({ blockedOn: 'blocked on birth_date' })] });
    expect(((await json(await ex.request('/v1/models', { key: acme.key }))).body.items as Json[]).map((m) => m.id)).toEqual([created.id]);

    // Another partner sees nothing of it, and cannot train on acme's data or name acme's model.
    expect((await ex.request(`/v1/models/${String(created.id)}`, { key: globex.key })).status).toBe(404);
    expect((await ex.request('/v1/models', { method: 'POST', key: globex.key, json: { datasetId: dataset } })).status).toBe(404);
    expect((await ex.request(`/v1/datasets/${dataset}/model`, { method: 'PUT', key: globex.key, json: { modelId: created.id } })).status).toBe(404);

    const named = await json(await ex.request(`/v1/datasets/${dataset}/model`, { method: 'PUT', key: acme.key, json: { modelId: created.id } }));
    expect([named.status, named.body.modelId]).toEqual([200, created.id]);

    const token = await mint({ jti: 'model-query' });
    const query = () => matchWith(token, { given: 'lachlan', family: 'berry', birthDate: '1999-02-19' });
    const trained = await query();
    expect(trained.status).toBe(200);
    expect((trained.body.results as Json[]).map((r) => r.model)).toEqual(Array((trained.body.results as Json[]).length).fill(created.id));
    expect((trained.body.results as Json[]).length).toBeGreaterThan(0);

    expect((await ex.request(`/v1/datasets/${dataset}/model`, { method: 'PUT', key: acme.key, json: { modelId: null } })).status).toBe(200);
    const shipped = await query();
    expect(new Set((shipped.body.results as Json[]).map((r) => r.model))).toEqual(new Set(['default']));

    const events = await selectAuditEvents(ex.db);
    expect(events.filter((e) => e.action === 'model.train')).toEqual([expect.objectContaining({ targetId: created.id, details: { datasetId: dataset, pairs: expect.any(Number) } })]);
    expect(events.filter((e) => e.action === 'dataset.model').map((e) => e.details)).toEqual([{ model: created.id }, { model: null }]);
    const queries = events.filter((e) => e.action === 'match.query').map((e) => (e.details.results as Json[]).map((r) => r.model));
    expect(queries.map((models) => [...new Set(models)])).toEqual([[created.id], ['default']]);
  });

  it("finds candidates by the blocking rules of the model a searched dataset names, besides the shipped ones", async () => {
    // A model whose settings add a rule on the given name alone (an index serves it), stored as a trained one would be.
    const custom = { ...defaultModel(), blocking: { ...defaultModel().blocking, rules: [...defaultModel().blocking.rules, { name: 'same_given_name', on: ['given_name'] }] } };
    const stored = await ex.db.transaction(async (tx) => {
      const row = await insertModel(tx, acme.partner.id, dataset);
      await finishModel(tx, acme.partner.id, row.id, { model: JSON.parse(JSON.stringify(custom)) as Record<string, unknown> });
      return row;
    });
    const token = await mint({ minGrade: 'possible' });
    // Lachlan, with a family name and a postcode no shipped single-query rule finds him by (with a
    // postcode, the whole-name trigram search is not run).
    const query = () => matchWith(token, { given: 'lachlan', family: 'xqzt', postcode: '9999' });
    const shipped = await query();
    expect(shipped.status).toBe(200);
    expect((await ex.request(`/v1/datasets/${dataset}/model`, { method: 'PUT', key: acme.key, json: { modelId: stored.id } })).status).toBe(200);
    const withRule = await query();
    const lachlans = readFileSync(`${sharedData}febrl/dataset1.csv`, 'utf8').split('\n').filter((line) => line.split(',')[1]?.trim() === 'lachlan').length;
    expect(lachlans).toBeGreaterThan(1);
    expect(withRule.body.candidates).toBeGreaterThanOrEqual((shipped.body.candidates as number) + lachlans);
    expect((await ex.request(`/v1/datasets/${dataset}/model`, { method: 'PUT', key: acme.key, json: { modelId: null } })).status).toBe(200);
  });

  it('refuses to train on a dataset with fewer than two records', async () => {
    const refused = await json(await ex.request('/v1/models', { method: 'POST', key: acme.key, json: { datasetId: tiny } }));
    expect([refused.status, refused.body.detail]).toEqual([400, 'The dataset needs at least two records to train on.']);
  });
});
