import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKey, type MintOptions } from '../../src/consent/mint.js';
import { STANDARD_VERSION, type CustomerRecord } from '../../src/standard/customer.js';
import { selectAuditEvents } from '../../src/store/audit-events.js';
import { createTestExchange, grantToken, type TestExchange } from '../helpers/app.js';
import { engineUnderTest } from '../helpers/database.js';
import { sharedData } from '../helpers/mapping.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- FHIR answers read field by field

// The two validators the issue names: the official FHIR R4 JSON schema, and FHIR.js's
// StructureDefinition-driven validator (value sets, unexpected properties).
const require = createRequire(import.meta.url);
const JSONSchemaValidator = require('@asymmetrik/fhir-json-schema-validator') as new (schema?: object) => { validate(resource: unknown): unknown[] };
const { Fhir } = require('fhir') as { Fhir: new () => { validate(resource: unknown, options: { errorOnUnexpected: boolean }): { valid: boolean; messages: { severity: string; location: string; message: string }[] } } };
// The package ships the schema of R4's 4.0.0 build; R4 as published (4.0.1, a technical correction)
// adds its own number to the FHIRVersion code list, which a CapabilityStatement must state.
const r4Schema = JSON.parse(readFileSync(require.resolve('@asymmetrik/fhir-json-schema-validator/fhir.schema.json'), 'utf8'), (_key, value: unknown) =>
  Array.isArray(value) && value.includes('4.0.0') ? [...value, '4.0.1'] : value,
) as object;
const schemaValidator = new JSONSchemaValidator(r4Schema);
const fhirJs = new Fhir();

/** Both validators accept the resource (FHIR.js's information-level messages aside). */
function expectValidFhir(resource: unknown): void {
  expect(schemaValidator.validate(resource)).toEqual([]);
  const result = fhirJs.validate(resource, { errorOnUnexpected: true });
  expect(result.messages.filter((m) => m.severity === 'error')).toEqual([]);
  expect(result.valid).toBe(true);
}

const FHIR = 'application/fhir+json';

describe(`FHIR Patient/$match on ${engineUnderTest}`, () => {
  let ex: TestExchange;
  let acme: { key: string; partner: { id: string } };
  let globex: { key: string; partner: { id: string } };
  let key: Awaited<ReturnType<typeof generateSigningKey>>['privateJwk'];

  const mint = (options: Partial<MintOptions> = {}) => grantToken(ex, { privateJwk: key, grantor: acme, grantee: globex }, { actions: ['match', 'disclose'], fields: ['name', 'birthDate', 'gender', 'emails', 'phones', 'addresses', 'identifiers'], ...options });
  const parameters = (patient: Json, more: Json[] = []) => ({ resourceType: 'Parameters', parameter: [{ name: 'resource', resource: { resourceType: 'Patient', ...patient } }, ...more] });
  const $match = async (body: unknown, token?: string) => {
    const response = await ex.request('/fhir/Patient/$match', {
      method: 'POST', key: globex.key, body: JSON.stringify(body),
      headers: { 'content-type': FHIR, accept: FHIR, ...(token ? { 'consent-token': token } : {}) },
    });
    return { status: response.status, type: response.headers.get('content-type'), body: (await response.json()) as Json };
  };

  // One customer with every field the standard maps to a Patient.
  const wei: CustomerRecord = {
    standardVersion: STANDARD_VERSION, source: { recordId: 'cust-0042' },
    name: { given: 'Wei Ming', family: 'Zhang' }, birthDate: '1980-01-02', gender: 'male',
    emails: [{ address: 'wei.zhang@example.com', type: 'work' }], phones: [{ number: '+8613812345678', type: 'mobile' }],
    addresses: [{ lines: ['88 Century Avenue'], locality: 'Shanghai', postcode: '200120', country: 'CN', type: 'home' }],
    identifiers: [{ scheme: 'passport', value: 'E12345678', issuer: 'CN' }],
  };

  beforeAll(async () => {
    ex = await createTestExchange();
    acme = await ex.addPartner('acme');
    globex = await ex.addPartner('globex');
    const created = (await (await ex.request('/v1/datasets', { method: 'POST', key: acme.key, json: { name: 'febrl', defaultMapping: 'febrl' } })).json()) as Json;
    const upload = await ex.request(`/v1/datasets/${created.id}/uploads`, { method: 'POST', key: acme.key, headers: { 'content-type': 'text/csv' }, body: readFileSync(`${sharedData}febrl/dataset1.csv`, 'utf8') });
    expect(upload.status).toBe(201);
    const canonical = await ex.request(`/v1/datasets/${created.id}/uploads?mapping=canonical&mode=append`, { method: 'POST', key: acme.key, headers: { 'content-type': 'application/x-ndjson' }, body: JSON.stringify(wei) });
    expect(canonical.status).toBe(201);
    key = (await generateSigningKey('EdDSA', 'acme-1')).privateJwk;
    const { d: _d, ...publicJwk } = key;
    expect((await ex.request('/v1/partners/me/jwks', { method: 'PUT', key: acme.key, json: { keys: [publicJwk] } })).status).toBe(200);
  });
  afterAll(() => ex.close());

  it('publishes a CapabilityStatement naming Patient/$match', async () => {
    const response = await ex.request('/fhir/metadata');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(FHIR);
    const statement = (await response.json()) as Json;
    expectValidFhir(statement);
    expect(statement).toMatchObject({ resourceType: 'CapabilityStatement', fhirVersion: '4.0.1', kind: 'instance' });
    expect(statement.rest[0].resource[0]).toMatchObject({ type: 'Patient', operation: [{ name: 'match', definition: 'http://hl7.org/fhir/OperationDefinition/Patient-match' }] });
  });

  it('answers a valid searchset Bundle, best first, each Patient with an id, a fullUrl, a score and its grade', async () => {
    // rec-122-org is Lachlan Berry, born 1999-02-19, postcode 4814: asked with a typo in the family name.
    const { status, type, body } = await $match(parameters({ name: [{ family: 'Bery', given: ['Lachlan'] }], birthDate: '1999-02-19', address: [{ postalCode: '4814', country: 'AU' }] }), await mint({ minGrade: 'possible' }));
    expect([status, type]).toEqual([200, FHIR]);
    expectValidFhir(body);
    expect(body).toMatchObject({ resourceType: 'Bundle', type: 'searchset', total: body.entry.length });
    expect(body.entry.length).toBeGreaterThan(0);
    const [best] = body.entry;
    expect(best.resource).toMatchObject({ resourceType: 'Patient', name: [{ family: 'Berry', given: ['Lachlan'] }], birthDate: '1999-02-19' });
    // Where the record lives at the grantor first, then its own identifiers (FEBRL's social security number).
    expect(best.resource.identifier).toEqual([
      { system: expect.stringMatching(/^urn:customer-exchange:dataset:/), value: expect.stringMatching(/^rec-122-/) },
      { system: 'urn:customer-exchange:identifier:social_security', value: expect.any(String) },
    ]);
    expect(best.fullUrl).toBe(`urn:uuid:${best.resource.id}`);
    expect(best.resource.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(best.search).toMatchObject({ mode: 'match', extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/match-grade', valueCode: 'certain' }] });
    const scores = body.entry.map((e: Json) => e.search.score as number);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    // The same record has the same id in the next answer.
    const again = await $match(parameters({ name: [{ family: 'Berry', given: ['Lachlan'] }], birthDate: '1999-02-19' }), await mint());
    const same = again.body.entry.find((e: Json) => e.resource.identifier[0].value === best.resource.identifier[0].value);
    expect(same.resource.id).toBe(best.resource.id);
  });

  it('maps every granted field both ways, and nothing the token does not grant', async () => {
    const patient = {
      name: [{ family: 'Zhang', given: ['Wei', 'Ming'] }], gender: 'male', birthDate: '1980-01-02',
      telecom: [{ system: 'email', value: 'WEI.ZHANG@example.com' }, { system: 'phone', value: '+86 138 1234 5678' }],
      address: [{ line: ['88 Century Avenue'], city: 'Shanghai', postalCode: '200120', country: 'CN' }],
      identifier: [{ system: 'urn:customer-exchange:identifier:passport', value: 'e12345678' }],
      meta: { profile: ['http://hl7.org/fhir/StructureDefinition/Patient'] },
    };
    const { status, body } = await $match(parameters(patient), await mint());
    expect(status).toBe(200);
    expectValidFhir(body);
    const [entry] = body.entry;
    expect(entry.search.extension[0].valueCode).toBe('certain');
    expect(entry.resource).toEqual({
      resourceType: 'Patient',
      id: entry.resource.id,
      identifier: [{ system: expect.stringMatching(/^urn:customer-exchange:dataset:/), value: 'cust-0042' }, { system: 'urn:customer-exchange:identifier:passport', value: 'E12345678' }],
      name: [{ family: 'Zhang', given: ['Wei', 'Ming'] }],
      telecom: [{ system: 'phone', value: '+8613812345678', use: 'mobile' }, { system: 'email', value: 'wei.zhang@example.com', use: 'work' }],
      gender: 'male',
      birthDate: '1980-01-02',
      address: [{ use: 'home', line: ['88 Century Avenue'], city: 'Shanghai', postalCode: '200120', country: 'CN' }],
    });
    // A token that discloses the name alone: no birth date, telecom, address or identifier beyond where the record lives.
    const nameOnly = await $match(parameters(patient), await mint({ fields: ['name'] }));
    expect(Object.keys(nameOnly.body.entry[0].resource).sort()).toEqual(['id', 'identifier', 'name', 'resourceType']);
    expect(nameOnly.body.entry[0].resource.identifier).toHaveLength(1);
    // Grades only: no score.
    const gradesOnly = await $match(parameters(patient), await mint({ scores: false }));
    expect(gradesOnly.body.entry[0].search.score).toBeUndefined();
    expectValidFhir(gradesOnly.body);
  });

  it('keeps to onlyCertainMatches and count', async () => {
    // rec-122-org and its duplicate, one of them with a mistyped postcode: a certain and a probable match.
    const lachlan = { name: [{ family: 'Berry', given: ['Lachlan'] }], address: [{ postalCode: '4814', country: 'AU' }] };
    const all = await $match(parameters(lachlan, [{ name: 'count', valueInteger: 50 }]), await mint({ minGrade: 'possible', maxResults: 50 }));
    expect(all.body.entry.some((e: Json) => e.search.extension[0].valueCode !== 'certain')).toBe(true);
    const certain = await $match(parameters(lachlan, [{ name: 'onlyCertainMatches', valueBoolean: true }]), await mint({ minGrade: 'possible' }));
    expect(certain.status).toBe(200);
    expect(certain.body.entry.every((e: Json) => e.search.extension[0].valueCode === 'certain')).toBe(true);
    expect(certain.body.entry.length).toBeGreaterThan(0);
    const one = await $match(parameters(lachlan, [{ name: 'count', valueInteger: 1 }]), await mint({ minGrade: 'possible' }));
    expect(one.body.entry).toHaveLength(1);
    expect(one.body.total).toBe(1);
    expect(one.body.entry[0].search.score).toBe(all.body.entry[0].search.score);
  });

  it('answers errors as OperationOutcome to a FHIR client, naming the element', async () => {
    const lachlan = parameters({ name: [{ family: 'Berry', given: ['Lachlan'] }], birthDate: '1999-02-19' });
    const missing = await $match(lachlan);
    expect([missing.status, missing.type]).toEqual([401, FHIR]);
    expectValidFhir(missing.body);
    expect(missing.body.issue[0]).toMatchObject({ severity: 'error', code: 'login', details: { coding: [{ code: 'missing' }] } });

    const otherPurpose = await $match({ ...lachlan, parameter: [...lachlan.parameter, { name: 'purpose', valueCode: 'marketing' }] }, await mint());
    expect(otherPurpose.status).toBe(403);
    expect(otherPurpose.body.issue[0]).toMatchObject({ code: 'forbidden', details: { coding: [{ code: 'purpose_mismatch' }] } });

    const badDate = await $match(parameters({ name: [{ family: 'Berry' }], birthDate: '19/02/1999' }), await mint());
    expect([badDate.status, badDate.type]).toEqual([400, FHIR]);
    expectValidFhir(badDate.body);
    expect(badDate.body.issue).toEqual([expect.objectContaining({ code: 'invalid', expression: ['parameter[0].resource.birthDate'] })]);

    const impossible = await $match(parameters({ name: [{ family: 'Berry' }], birthDate: '1999-02-31' }), await mint());
    expect(impossible.body.issue[0]).toMatchObject({ code: 'invalid', expression: ['parameter[0].resource.birthDate'] });

    const nameless = await $match(parameters({ birthDate: '1999-02-19' }), await mint());
    expect(nameless.status).toBe(400);
    expect(nameless.body.issue[0].diagnostics).toContain('needs a name');

    const notPatient = await $match({ resourceType: 'Parameters', parameter: [{ name: 'resource', resource: { resourceType: 'Practitioner' } }] }, await mint());
    expect(notPatient.body.issue[0].expression).toEqual(['parameter[0].resource.resourceType']);
    const noResource = await $match({ resourceType: 'Parameters', parameter: [{ name: 'count', valueInteger: 3 }] }, await mint());
    expect([noResource.status, noResource.body.issue[0].expression]).toEqual([400, ['parameter']]);

    // A client that asks for problem+json gets it.
    const plain = await ex.request('/fhir/Patient/$match', { method: 'POST', key: globex.key, json: lachlan });
    expect([plain.status, plain.headers.get('content-type')]).toEqual([401, 'application/problem+json']);
  });

  it('audits the query as POST /v1/match does, without the criteria or the source id', async () => {
    const token = await mint({ jti: 'fhir-match-1' });
    expect((await $match(parameters({ name: [{ family: 'Zhang', given: ['Wei'] }], birthDate: '1980-01-02' }), token)).status).toBe(200);
    const [event] = (await selectAuditEvents(ex.db, { action: 'match.query' })).filter((e) => e.targetId === 'fhir-match-1');
    expect(event).toMatchObject({ partnerId: acme.partner.id, details: { jti: 'fhir-match-1', criteria: ['given', 'family', 'birthDate'] } });
    expect(JSON.stringify(event!.details)).not.toMatch(/Zhang|1980-01-02|cust-0042/);
  });
});
