import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { base64url, exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKey, mintConsentToken, type MintOptions } from '../../src/consent/mint.js';
import type { ConsentGrant } from '../../src/core/grant.js';
import { STANDARD_VERSION } from '../../src/standard/customer.js';
import { selectAuditEvents } from '../../src/store/audit-events.js';
import { selectDisclosedRecord } from '../../src/store/shared-records.js';
import { createTestExchange, type TestExchange } from '../helpers/app.js';
import { engineUnderTest } from '../helpers/database.js';

type Json = Record<string, unknown>;
type Party = { key: string; partner: { id: string } };

const record = (id: string, extra: Json = {}) => ({
  standardVersion: STANDARD_VERSION,
  source: { recordId: id },
  name: { given: 'Wei', family: 'Zhang', full: 'Zhang Wei' },
  birthDate: '1980-01-02',
  emails: [{ address: `${id}@example.com`, type: 'home' }],
  addresses: [
    { lines: ['88 Century Avenue'], locality: 'Shanghai', postcode: '200120', country: 'CN', type: 'home' },
    { lines: ['1 Nanjing Road'], locality: 'Shanghai', postcode: '200001', country: 'CN', type: 'work' },
  ],
  ...extra,
});

describe(`consent tokens on ${engineUnderTest}`, () => {
  let ex: TestExchange;
  let acme: Party;
  let globex: Party;
  let initech: Party;
  let crm: string;
  let archive: string;
  let initechDataset: string;
  let edKey: JWK;
  let ecKey: JWK;

  const createDataset = async (party: Party, name: string, records: Json[]) => {
    const created = (await (await ex.request('/v1/datasets', { method: 'POST', key: party.key, json: { name } })).json()) as Json;
    const uploaded = await ex.request(`/v1/datasets/${String(created.id)}/uploads`, {
      method: 'POST',
      key: party.key,
      headers: { 'content-type': 'application/x-ndjson' },
      body: records.map((r) => JSON.stringify(r)).join('\n'),
    });
    expect(uploaded.status).toBe(201);
    return String(created.id);
  };

  /** A token acme signs for globex; any option can be overridden. */
  const mint = async (options: Partial<MintOptions> = {}) =>
    (
      await mintConsentToken({
        privateJwk: edKey,
        grantor: acme.partner.id,
        grantee: globex.partner.id,
        audience: ex.config.EXCHANGE_ID,
        purpose: 'fraud_prevention',
        lawfulBasis: 'legitimate_interests',
        actions: ['match', 'disclose'],
        datasets: [crm],
        fields: ['name', 'birthDate'],
        ttlSeconds: 3600,
        ...options,
      })
    ).token;

  /** Signs any header and claims with acme's Ed25519 key, for tokens mint would refuse to make. */
  const signRaw = async (claims: Json, header: Json = {}) => {
    const now = Math.floor(Date.now() / 1000);
    const payload = {
      iss: acme.partner.id, sub: globex.partner.id, aud: ex.config.EXCHANGE_ID, iat: now, nbf: now, exp: now + 3600, jti: randomUUID(),
      purpose: 'fraud_prevention', lawful_basis: 'legitimate_interests',
      authorization_details: [{ type: 'customer_match', actions: ['disclose'], fields: ['name'] }],
      ...claims,
    };
    return new SignJWT(payload).setProtectedHeader({ alg: 'EdDSA', typ: 'consent+jwt', kid: String(edKey.kid), ...header }).sign(await importJWK(edKey, 'EdDSA'));
  };

  const read = (token: string | undefined, options: { sourceId?: string; dataset?: string; purpose?: string; party?: Party } = {}) =>
    ex.request(`/v1/shared/datasets/${options.dataset ?? crm}/records/${options.sourceId ?? 'c-1'}?purpose=${options.purpose ?? 'fraud_prevention'}`, {
      key: (options.party ?? globex).key,
      headers: token === undefined ? {} : { 'consent-token': token },
    });

  const expectRefused = async (response: Response, status: number, reason: string) => {
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    const problem = (await response.json()) as Json;
    expect(problem.reason).toBe(reason);
    // The refusal speaks of the token, never of the grantor's data.
    const text = JSON.stringify(problem);
    for (const secret of ['Zhang', 'c-1@example.com', '200120', 'initech', initechDataset, archive]) expect(text).not.toContain(secret);
    return problem;
  };

  beforeAll(async () => {
    ex = await createTestExchange();
    acme = await ex.addPartner('acme');
    globex = await ex.addPartner('globex');
    initech = await ex.addPartner('initech');
    crm = await createDataset(acme, 'crm', [
      record('c-1'),
      record('c-2', { consents: [{ purpose: 'fraud_prevention', status: 'withdrawn', capturedAt: '2024-01-01T00:00:00.000Z' }] }),
      record('c-3', { consents: [{ purpose: 'marketing', status: 'granted', lawfulBasis: 'consent' }] }),
      record('c-4', {
        consents: [
          { purpose: 'marketing', status: 'granted', capturedAt: '2023-01-01T00:00:00.000Z' },
          { purpose: 'marketing', status: 'withdrawn', capturedAt: '2024-01-01T00:00:00.000Z' },
        ],
      }),
      // Lapsed grants count as no statement: opt-in refused, opt-out allowed.
      record('c-5', { consents: [{ purpose: 'marketing', status: 'granted', lawfulBasis: 'consent', expiresAt: '2024-06-01T00:00:00.000Z' }] }),
      record('c-6', { consents: [{ purpose: 'marketing', status: 'granted', lawfulBasis: 'consent', expiresAt: '2999-01-01T00:00:00.000Z' }, { purpose: 'fraud_prevention', status: 'granted', expiresAt: '2024-06-01T00:00:00.000Z' }] }),
    ]);
    archive = await createDataset(acme, 'archive', [record('a-1')]);
    initechDataset = await createDataset(initech, 'initech-crm', [record('i-1')]);
    edKey = (await generateSigningKey('EdDSA', 'acme-ed-1')).privateJwk;
    ecKey = (await generateSigningKey('ES256', 'acme-ec-1')).privateJwk;
    const publicOf = ({ d: _d, ...rest }: JWK) => rest;
    const registered = await ex.request('/v1/partners/me/jwks', { method: 'PUT', key: acme.key, json: { keys: [publicOf(edKey), publicOf(ecKey)] } });
    expect(registered.status).toBe(200);
  });
  afterAll(() => ex.close());

  describe('keys', () => {
    it('registers a JWKS of public keys and shows it back without private parts', async () => {
      const jwks = (await (await ex.request('/v1/partners/me/jwks', { key: acme.key })).json()) as { keys: Json[] };
      expect(jwks.keys.map((k) => [k.kid, k.alg])).toEqual([['acme-ec-1', 'ES256'], ['acme-ed-1', 'EdDSA']]);
      expect(jwks.keys.every((k) => !('d' in k))).toBe(true);
      // Auditors can read any partner's keys; another partner cannot even tell that acme exists.
      const auditorKey = (await ex.request('/v1/keys', { method: 'POST', key: ex.adminKey, json: { name: 'audit', role: 'auditor' } }).then((r) => r.json())) as Json;
      expect((await ex.request(`/v1/partners/${acme.partner.id}/jwks`, { key: String(auditorKey.key) })).status).toBe(200);
      expect((await ex.request(`/v1/partners/${acme.partner.id}/jwks`, { key: globex.key })).status).toBe(404);
      const [event] = await selectAuditEvents(ex.db, { action: 'partner_keys.replace' });
      expect(event).toMatchObject({ partnerId: acme.partner.id, details: { kids: ['acme-ed-1', 'acme-ec-1'], added: 2, retired: 0 } });
    });

    it('refuses private keys, weak or symmetric keys, other curves, points off the curve and repeated kids', async () => {
      const put = (keys: Json[]) => ex.request('/v1/partners/me/jwks', { method: 'PUT', key: globex.key, json: { keys } });
      const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' });
      const p384 = (await generateKeyPair('ES384', { extractable: true })).publicKey;
      const cases: [Json[], string, RegExp][] = [
        [[{ ...edKey }], '/keys/0', /private key material \(d\)/],
        [[{ ...rsa, kid: 'rsa' }], '/keys/0/kty', /"RSA" keys are not accepted/],
        [[{ kty: 'oct', k: base64url.encode('public-key-as-secret'), kid: 'hmac' }], '/keys/0', /private key material \(k\)/],
        [[{ ...(await exportJWK(p384)), kid: 'p384' }], '/keys/0/crv', /P-256/],
        [[{ kty: 'EC', crv: 'P-256', x: base64url.encode(new Uint8Array(32).fill(1)), y: base64url.encode(new Uint8Array(32).fill(2)), kid: 'off-curve' }], '/keys/0', /not a valid public key/],
        [[{ kty: 'OKP', crv: 'Ed25519', x: String(edKey.x), kid: 'twice' }, { kty: 'OKP', crv: 'Ed25519', x: String(edKey.x), kid: 'twice' }], '/keys/1/kid', /appears twice/],
      ];
      for (const [keys, path, message] of cases) {
        const response = await put(keys);
        expect(response.status, path).toBe(400);
        const problem = (await response.json()) as { errors: { path: string; message: string }[] };
        expect(problem.errors, JSON.stringify(problem)).toContainEqual({ path, message: expect.stringMatching(message) });
      }
      expect((await (await ex.request('/v1/partners/me/jwks', { key: globex.key })).json()) as Json).toEqual({ keys: [] });
    });

    it('publishes the exchange\'s own signing keys', async () => {
      const response = await ex.request('/.well-known/jwks.json');
      expect(response.status).toBe(200);
      const { keys } = (await response.json()) as { keys: Json[] };
      expect(keys).toHaveLength(1);
      expect(keys[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig', kid: expect.any(String) });
      expect(keys[0]).not.toHaveProperty('d');
    });
  });

  describe('a permitted read', () => {
    it('returns only the granted fields, and audits the verification and the disclosure with the jti', async () => {
      const token = await mint({ jti: 'permit-1' });
      const response = await read(token);
      expect(response.status).toBe(200);
      const body = (await response.json()) as { record: Json; datasetId: string; sourceId: string };
      expect(body).toMatchObject({ datasetId: crm, sourceId: 'c-1' });
      expect(body.record).toEqual({
        standardVersion: STANDARD_VERSION,
        source: { recordId: 'c-1' },
        name: { given: 'Wei', family: 'Zhang', full: 'Zhang Wei' },
        birthDate: '1980-01-02',
      });
      const events = (await selectAuditEvents(ex.db)).filter((e) => e.targetId === 'permit-1' || (e.details as Json).jti === 'permit-1');
      expect(events.map((e) => [e.action, e.outcome])).toEqual([['consent.verify', 'success'], ['record.disclose', 'success']]);
      expect(events[0]).toMatchObject({ partnerId: acme.partner.id, details: { decision: 'permit', grantee: globex.partner.id, purpose: 'fraud_prevention' } });
    });

    it('tags the version and the cut (ETag): If-None-Match answers 304, still checked and audited', async () => {
      const token = await mint({ jti: 'etag-1' });
      const first = await read(token);
      const etag = first.headers.get('etag')!;
      expect(etag).toMatch(/^"v\d+-[\w-]{16}"$/);
      const again = await ex.request(`/v1/shared/datasets/${crm}/records/c-1?purpose=fraud_prevention`, { key: globex.key, headers: { 'consent-token': token, 'if-none-match': etag } });
      expect([again.status, await again.text()]).toEqual([304, '']);
      expect((await selectAuditEvents(ex.db)).filter((e) => e.action === 'record.disclose' && (e.details as Json).jti === 'etag-1')).toHaveLength(2);
      // Another grant's cut of the same version is another representation.
      const narrower = await read(await mint({ fields: ['name.family'] }));
      expect(narrower.headers.get('etag')).not.toBe(etag);
      // No token, no 304: the refusal comes first.
      const refused = await ex.request(`/v1/shared/datasets/${crm}/records/c-1?purpose=fraud_prevention`, { key: globex.key, headers: { 'if-none-match': '*' } });
      expect(refused.status).toBe(401);
    });

    it('cuts arrays down element by element to the granted sub-fields', async () => {
      const token = await mint({ fields: ['addresses[].postcode', 'addresses[].country', 'name.family'] });
      const body = (await (await read(token)).json()) as { record: Json };
      expect(body.record).toEqual({
        standardVersion: STANDARD_VERSION,
        source: { recordId: 'c-1' },
        name: { family: 'Zhang' },
        addresses: [{ postcode: '200120', country: 'CN' }, { postcode: '200001', country: 'CN' }],
      });
    });

    it('verifies ES256 tokens too, and says what a token grants', async () => {
      const token = await mint({ privateJwk: ecKey, jti: 'es256-1' });
      expect((await read(token)).status).toBe(200);
      const checked = await ex.request('/v1/consents/verify', { method: 'POST', key: globex.key, headers: { 'consent-token': token }, json: { purpose: 'fraud_prevention', action: 'disclose' } });
      expect(await checked.json()).toMatchObject({ jti: 'es256-1', grantor: acme.partner.id, grantee: globex.partner.id, datasets: [crm], fields: ['name', 'birthDate'], minGrade: 'probable', maxResults: 10 });
    });
  });

  describe('the grant\'s limits', () => {
    it('covers only the named datasets; all of the grantor\'s when none are named', async () => {
      expect((await read(await mint(), { dataset: archive, sourceId: 'a-1' })).status).toBe(404);
      expect((await read(await mint({ datasets: [] }), { dataset: archive, sourceId: 'a-1' })).status).toBe(200);
      // Another partner's dataset is out of reach of acme's token, exactly like one that does not exist.
      const outside = await read(await mint({ datasets: [] }), { dataset: initechDataset, sourceId: 'i-1' });
      const missing = await read(await mint({ datasets: [] }), { dataset: randomUUID(), sourceId: 'i-1' });
      expect([outside.status, missing.status]).toEqual([404, 404]);
      expect(((await outside.json()) as Json).detail).toBe(((await missing.json()) as Json).detail);
    });

    it('never discloses a record whose own consents refuse the purpose', async () => {
      // fraud_prevention is opt-out: allowed unless withdrawn (c-2 withdrew it).
      expect((await read(await mint(), { sourceId: 'c-2' })).status).toBe(404);
      // marketing is opt-in: only c-3 granted it; c-4's later withdrawal overrides its grant.
      const marketing = await mint({ purpose: 'marketing', lawfulBasis: 'consent' });
      const statuses = await Promise.all(['c-1', 'c-2', 'c-3', 'c-4', 'c-5', 'c-6'].map(async (id) => (await read(marketing, { sourceId: id, purpose: 'marketing' })).status));
      expect(statuses).toEqual([404, 404, 200, 404, 404, 200]);
      // c-6's lapsed fraud_prevention grant leaves that opt-out purpose allowed.
      expect((await read(await mint(), { sourceId: 'c-6' })).status).toBe(200);
    });

    it('cannot be used for a read by code that did not verify a token', async () => {
      const forged = { jti: 'x', grantorId: acme.partner.id, action: 'disclose', datasets: null, fields: ['emails'], purpose: 'fraud_prevention', optIn: false } as unknown as ConsentGrant;
      await expect(selectDisclosedRecord(ex.db, forged, { datasetId: crm, sourceId: 'c-1' })).rejects.toThrow(/without a verified consent grant/);
    });
  });

  describe('refused tokens', () => {
    it('refuses a request without a token', async () => {
      await expectRefused(await read(undefined), 401, 'missing');
    });

    it('refuses expired and not-yet-valid tokens, beyond the clock tolerance', async () => {
      await expectRefused(await read(await mint({ now: new Date(Date.now() - 7200_000) })), 401, 'expired');
      const now = Math.floor(Date.now() / 1000);
      await expectRefused(await read(await signRaw({ nbf: now + 600 })), 401, 'not_yet_valid');
      // Within the tolerance (60 s) a skewed clock is forgiven.
      expect((await read(await signRaw({ nbf: now + 30 }))).status).toBe(200);
    });

    it('refuses a wrong audience, a wrong typ and a lifetime beyond the maximum', async () => {
      await expectRefused(await read(await mint({ audience: 'urn:another-exchange' })), 401, 'wrong_audience');
      await expectRefused(await read(await signRaw({}, { typ: 'JWT' })), 401, 'wrong_type');
      await expectRefused(await read(await mint({ ttlSeconds: 91 * 86_400 })), 401, 'lifetime_too_long');
    });

    it('refuses unknown kids, alg none and HS256 signed with the public key as the secret', async () => {
      await expectRefused(await read(await signRaw({}, { kid: 'not-registered' })), 401, 'unknown_key');
      const claims = base64url.encode(JSON.stringify({ iss: acme.partner.id, sub: globex.partner.id, jti: 'none-1', aud: ex.config.EXCHANGE_ID }));
      const none = `${base64url.encode(JSON.stringify({ alg: 'none', typ: 'consent+jwt', kid: edKey.kid }))}.${claims}.`;
      await expectRefused(await read(none), 401, 'algorithm_not_allowed');
      const now = Math.floor(Date.now() / 1000);
      const hs256 = await new SignJWT({ iss: acme.partner.id, sub: globex.partner.id, aud: ex.config.EXCHANGE_ID, iat: now, nbf: now, exp: now + 60, jti: 'hs-1' })
        .setProtectedHeader({ alg: 'HS256', typ: 'consent+jwt', kid: String(edKey.kid) })
        .sign(new TextEncoder().encode(JSON.stringify({ kty: 'OKP', crv: 'Ed25519', x: edKey.x })));
      await expectRefused(await read(hs256), 401, 'algorithm_not_allowed');
    });

    it('refuses a tampered payload, a tampered signature and an oversized token', async () => {
      const [header, payload, signature] = (await mint()).split('.') as [string, string, string];
      const claims = JSON.parse(new TextDecoder().decode(base64url.decode(payload))) as { authorization_details: Json[] };
      claims.authorization_details[0]!.fields = ['name', 'birthDate', 'emails', 'identifiers'];
      await expectRefused(await read(`${header}.${base64url.encode(JSON.stringify(claims))}.${signature}`), 401, 'bad_signature');
      const flipped = `${signature.slice(0, 10)}${signature[10] === 'A' ? 'B' : 'A'}${signature.slice(11)}`;
      await expectRefused(await read(`${header}.${payload}.${flipped}`), 401, 'bad_signature');
      await expectRefused(await read(`${header}.${'a'.repeat(9000)}.${signature}`), 401, 'too_large');
      await expectRefused(await read('not-a-token'), 401, 'malformed');
    });

    it('refuses a valid token used by another partner, for another purpose or action, or by its grantor', async () => {
      await expectRefused(await read(await mint(), { party: initech }), 403, 'wrong_grantee');
      await expectRefused(await read(await mint(), { purpose: 'marketing' }), 403, 'purpose_mismatch');
      await expectRefused(await read(await mint({ actions: ['match'] })), 403, 'action_not_granted');
      await expectRefused(await read(await mint({ grantee: acme.partner.id }), { party: acme }), 403, 'own_data');
    });

    it('refuses a grantor naming another partner\'s dataset, without saying whose it is', async () => {
      const problem = await expectRefused(await read(await mint({ datasets: [crm, initechDataset] })), 403, 'foreign_dataset');
      expect(problem.detail).toBe('The consent token names datasets its grantor cannot grant.');
    });

    it('refuses a revoked token from the next request on, and only the grantor revokes its own tokens', async () => {
      const token = await mint({ jti: 'to-revoke' });
      expect((await read(token)).status).toBe(200);
      // globex revoking "to-revoke" revokes globex's own jti of that name, not acme's token.
      await ex.request('/v1/consents/revoke', { method: 'POST', key: globex.key, json: { jti: 'to-revoke' } });
      expect((await read(token)).status).toBe(200);
      const revoked = await ex.request('/v1/consents/revoke', { method: 'POST', key: acme.key, json: { jti: 'to-revoke', reason: 'contract ended' } });
      expect(revoked.status).toBe(200);
      await expectRefused(await read(token), 401, 'revoked');
      const [event] = (await selectAuditEvents(ex.db, { action: 'consent.revoke' })).filter((e) => e.partnerId === acme.partner.id);
      // The reason is the grantor's free text: it stays with the revocation, out of the public log.
      expect(event).toMatchObject({ targetId: 'to-revoke', details: { jti: 'to-revoke', reasonGiven: true } });
      expect(JSON.stringify(event)).not.toContain('contract ended');
    });

    it('stops verifying tokens of a key left out of a new JWKS', async () => {
      const token = await mint({ privateJwk: ecKey });
      const { d: _d, ...edPublic } = edKey;
      expect((await ex.request('/v1/partners/me/jwks', { method: 'PUT', key: acme.key, json: { keys: [edPublic] } })).status).toBe(200);
      await expectRefused(await read(token), 401, 'unknown_key');
      expect((await read(await mint())).status).toBe(200);
    });

    it('records every refusal in the audit log with its reason and the jti', async () => {
      const token = await mint({ jti: 'audited-denial' });
      await read(token, { purpose: 'credit_assessment' });
      const events = (await selectAuditEvents(ex.db, { action: 'consent.verify' })).filter((e) => e.outcome === 'denied');
      const reasons = new Set(events.map((e) => (e.details as Json).reason));
      for (const reason of ['missing', 'expired', 'not_yet_valid', 'wrong_audience', 'unknown_key', 'algorithm_not_allowed', 'bad_signature', 'too_large', 'revoked', 'wrong_grantee', 'purpose_mismatch', 'foreign_dataset']) {
        expect(reasons, reason).toContain(reason);
      }
      const denial = events.find((e) => e.targetId === 'audited-denial');
      expect(denial).toMatchObject({ partnerId: acme.partner.id, details: { reason: 'purpose_mismatch', jti: 'audited-denial', signatureVerified: true, grantee: globex.partner.id } });
    });
  });
});
