import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKey, type MintOptions } from '../../src/consent/mint.js';
import { evaluatePairs, idPairs, parsePairsCsv } from '../../src/match/evaluate.js';
import { runningJobs } from '../../src/services/create-linkage-job.js';
import { runLinkageJob } from '../../src/services/run-linkage-job.js';
import { verifyConsentToken } from '../../src/consent/verify.js';
import { insertLinkageJob } from '../../src/store/linkage-jobs.js';
import { selectAuditEvents } from '../../src/store/audit-events.js';
import { createTestExchange, grantToken, type TestExchange } from '../helpers/app.js';
import { engineUnderTest } from '../helpers/database.js';
import { sharedData } from '../helpers/mapping.js';

type Json = Record<string, unknown>;

describe(`batch linkage jobs on ${engineUnderTest}`, () => {
  let ex: TestExchange;
  let acme: { key: string; partner: { id: string } };
  let globex: { key: string; partner: { id: string } };
  const datasets: Record<string, string> = {};
  let signing: Awaited<ReturnType<typeof generateSigningKey>>['privateJwk'];

  const upload = async (party: { key: string }, name: string, csv: string) => {
    const created = (await (await ex.request('/v1/datasets', { method: 'POST', key: party.key, json: { name, defaultMapping: 'febrl' } })).json()) as Json;
    expect((await ex.request(`/v1/datasets/${String(created.id)}/uploads`, { method: 'POST', key: party.key, headers: { 'content-type': 'text/csv' }, body: csv })).status).toBe(201);
    return String(created.id);
  };
  const mint = (options: Partial<MintOptions> = {}) => grantToken(ex, { privateJwk: signing, grantor: acme, grantee: globex }, { purpose: 'identity_verification', actions: ['match'], fields: [], datasets: [datasets.org!], minGrade: 'possible', maxResults: 10, ...options });
  const createJob = (token: string | undefined, body: Json = {}) =>
    ex.request('/v1/linkage-jobs', {
      method: 'POST', key: globex.key, headers: token ? { 'consent-token': token } : {},
      json: { purpose: 'identity_verification', leftDatasetId: datasets.dup, rightDatasetId: datasets.org, ...body },
    });

  beforeAll(async () => {
    ex = await createTestExchange();
    acme = await ex.addPartner('acme');
    globex = await ex.addPartner('globex');
    const [header, ...rows] = readFileSync(`${sharedData}febrl/dataset3.csv`, 'utf8').split('\n').filter(Boolean);
    datasets.org = await upload(acme, 'febrl3-org', [header, ...rows.filter((r) => r.includes('-org,'))].join('\n'));
    datasets.other = await upload(acme, 'other', [header, ...rows.slice(0, 10)].join('\n'));
    datasets.dup = await upload(globex, 'febrl3-dup', [header, ...rows.filter((r) => r.includes('-dup-'))].join('\n'));
    signing = (await generateSigningKey('EdDSA', 'acme')).privateJwk;
    const { d: _d, ...publicJwk } = signing;
    await ex.request('/v1/partners/me/jwks', { method: 'PUT', key: acme.key, json: { keys: [publicJwk] } });
  });
  afterAll(() => ex.close());

  it('links the grantee\'s dataset against the grantor\'s in the background, with progress, pages and downloads', async () => {
    const token = await mint({ jti: 'job-1' });
    const response = await createJob(token);
    expect(response.status).toBe(202);
    const job = (await response.json()) as Json;
    expect(response.headers.get('location')).toBe(`/v1/linkage-jobs/${String(job.id)}`);
    await Promise.all(runningJobs);
    const done = (await (await ex.request(`/v1/linkage-jobs/${String(job.id)}`, { key: globex.key })).json()) as Json;
    expect(done).toMatchObject({ status: 'completed', progress: { stage: 'completed', leftRecords: 3000, rightRecords: 2000 } });

    const first = (await (await ex.request(`/v1/linkage-jobs/${String(job.id)}/results?limit=1000`, { key: globex.key, headers: { 'consent-token': token } })).json()) as { items: Json[]; nextCursor: number };
    expect(first.items).toHaveLength(1000);
    expect(first.nextCursor).toBe(1000);
    const csv = await (await ex.request(`/v1/linkage-jobs/${String(job.id)}/results.csv`, { key: globex.key, headers: { 'consent-token': token } })).text();
    const lines = csv.trim().split('\n');
    expect(lines[0]).toBe('left_id,right_id,probability,grade,match_weight,cluster');
    expect(lines.length - 1).toBe(done.links);
    const ndjson = await (await ex.request(`/v1/linkage-jobs/${String(job.id)}/results.ndjson`, { key: globex.key, headers: { 'consent-token': token } })).text();
    expect(ndjson.trim().split('\n')).toHaveLength(Number(done.links));

    const truth = idPairs(parsePairsCsv(readFileSync(`${sharedData}febrl/febrl3_true_pairs.csv`, 'utf8'))).filter(([a, b]) => a.includes('-org') !== b.includes('-org'));
    const quality = evaluatePairs(idPairs(parsePairsCsv(csv)).map(([a, b]) => [a, b]), truth);
    expect(quality.f1).toBeGreaterThanOrEqual(0.95);

    const events = (await selectAuditEvents(ex.db)).filter((e) => e.targetId === job.id);
    expect(events.map((e) => e.action)).toEqual(['linkage_job.create', 'linkage_job.complete']);
    // Every read of the links went through the consent gate.
    expect((await selectAuditEvents(ex.db, { action: 'consent.verify' })).filter((e) => e.targetId === 'job-1').length).toBeGreaterThanOrEqual(4);
    expect(events[0]!.details).toMatchObject({ jti: 'job-1', grantor: acme.partner.id });
  });

  it('refuses without a token, and outside the token\'s datasets answers as for a dataset that does not exist', async () => {
    expect((await createJob(undefined)).status).toBe(401);
    const outside = await createJob(await mint(), { rightDatasetId: datasets.other });
    const missing = await createJob(await mint(), { rightDatasetId: '00000000-0000-4000-8000-000000000000' });
    expect([outside.status, missing.status]).toEqual([404, 404]);
    expect(((await outside.json()) as Json).detail).toBe(((await missing.json()) as Json).detail);
    // Another partner's job is not found either.
    expect((await ex.request('/v1/linkage-jobs/00000000-0000-4000-8000-000000000000', { key: acme.key })).status).toBe(404);
  });

  it('keeps nothing when the token is revoked while the job runs', async () => {
    const token = await mint({ jti: 'revoked-mid-run' });
    const grant = await verifyConsentToken(ex.db, ex.config, { token, callerId: globex.partner.id, purpose: 'identity_verification', action: 'match' });
    const job = await insertLinkageJob(ex.db, {
      partnerId: globex.partner.id, grantorId: acme.partner.id, leftDatasetId: datasets.dup!, rightDatasetId: datasets.org!, purpose: 'identity_verification', jti: grant.jti, options: { threshold: 0.5 },
    });
    await ex.request('/v1/consents/revoke', { method: 'POST', key: acme.key, json: { jti: 'revoked-mid-run' } });
    await runLinkageJob({ ...ex.operator, actor: { type: 'api_key', keyId: 'test', role: 'partner', partnerId: globex.partner.id } }, job, grant);
    const after = (await (await ex.request(`/v1/linkage-jobs/${job.id}`, { key: globex.key })).json()) as Json;
    expect(after).toMatchObject({ status: 'failed', error: 'The consent token was revoked while the job ran; no links were kept.', links: null });
    const stored = await ex.db.query<{ n: number }>('SELECT count(*)::int AS n FROM linkage_results WHERE job_id = $1', [job.id]);
    expect(stored).toEqual([{ n: 0 }]);
  });

  it('keeps at most max_results links per record and none weaker than min_grade', async () => {
    const token = await mint({ maxResults: 1, minGrade: 'certain' });
    const response = await createJob(token, { threshold: 0.01 });
    const job = (await response.json()) as Json;
    await Promise.all(runningJobs);
    const csv = await (await ex.request(`/v1/linkage-jobs/${String(job.id)}/results.csv`, { key: globex.key, headers: { 'consent-token': token } })).text();
    const rows = csv.trim().split('\n').slice(1).map((line) => line.split(','));
    expect(rows.every((r) => r[3] === 'certain')).toBe(true);
    expect(new Set(rows.map((r) => r[0])).size).toBe(rows.length);
  });

  describe('links are the grantor\'s data: consent and erasure reach them', () => {
    let token: string;
    let jobId: string;
    const links = (headers: Record<string, string> = { 'consent-token': token }) => ex.request(`/v1/linkage-jobs/${jobId}/results?limit=10000`, { key: globex.key, headers });
    beforeAll(async () => {
      token = await mint({ jti: 'gate-1' });
      jobId = String(((await (await createJob(token)).json()) as Json).id);
      await Promise.all(runningJobs);
    });

    it('are read only with the job\'s own token', async () => {
      expect((await links()).status).toBe(200);
      expect((await links({})).status).toBe(401);
      const other = await links({ 'consent-token': await mint({ jti: 'gate-other' }) });
      expect([other.status, ((await other.json()) as Json).reason]).toEqual([403, 'token_mismatch']);
    });

    it('a grades-only token reads links without scores', async () => {
      const gradesOnly = await mint({ jti: 'gate-grades', scores: false });
      const id = String(((await (await createJob(gradesOnly)).json()) as Json).id);
      await Promise.all(runningJobs);
      const page = (await (await ex.request(`/v1/linkage-jobs/${id}/results`, { key: globex.key, headers: { 'consent-token': gradesOnly } })).json()) as { items: Json[] };
      expect(page.items.length).toBeGreaterThan(0);
      expect(page.items.every((i) => i.probability === undefined && i.matchWeight === undefined && typeof i.grade === 'string')).toBe(true);
    });

    it('erasing a record takes it out of every stored link, its owner\'s and its grantees\'', async () => {
      const before = ((await (await links()).json()) as { items: { rightId: string }[] }).items;
      const erasedId = before[0]!.rightId;
      const erased = await ex.request(`/v1/datasets/${datasets.org}/records/${erasedId}`, { method: 'DELETE', key: acme.key });
      expect(erased.status).toBe(200);
      expect(((await erased.json()) as Json).linkageResults).toBeGreaterThanOrEqual(1);
      const stored = await ex.db.query<{ n: number }>('SELECT count(*)::int AS n FROM linkage_results WHERE right_id = $1 OR left_id = $1', [erasedId]);
      expect(stored).toEqual([{ n: 0 }]);
      const after = ((await (await links()).json()) as { items: { rightId: string }[] }).items;
      expect(after.length).toBeLessThan(before.length);
      expect(after.some((l) => l.rightId === erasedId)).toBe(false);
    });

    it('after the grantor revokes the token, the links answer 401 revoked, downloads too', async () => {
      expect((await ex.request('/v1/consents/revoke', { method: 'POST', key: acme.key, json: { jti: 'gate-1' } })).status).toBeLessThan(300);
      for (const path of ['results', 'results.csv', 'results.ndjson']) {
        const response = await ex.request(`/v1/linkage-jobs/${jobId}/${path}`, { key: globex.key, headers: { 'consent-token': token } });
        expect([path, response.status, ((await response.json()) as Json).reason]).toEqual([path, 401, 'revoked']);
      }
    });
  });
});
