/** The exchange's FHIR R4 interface: Patient/$match, and the CapabilityStatement that names it. */
import { createRoute } from '@hono/zod-openapi';
import { matchParametersSchema, matchPatient } from '../../services/match-patient.js';
import type { App } from '../app.js';
import { serviceContext } from '../env.js';
import { capabilityStatementSchema, FHIR_JSON, fhirBundleSchema, fhirProblemResponses } from '../fhir.js';
import { matchBudget } from '../middleware/rate-limit.js';
import { requireActor } from '../middleware/require-actor.js';
import { bearerSecurity, consentTokenHeader, publicAccess } from '../openapi.js';

const PATIENT_MATCH = 'http://hl7.org/fhir/OperationDefinition/Patient-match';

const patientMatch = createRoute({
  method: 'post',
  path: '/fhir/Patient/$match',
  operationId: 'fhirPatientMatch',
  tags: ['matching'],
  summary: "FHIR R4 Patient/$match: which of the grantor's customers is this Patient?",
  description:
    'The FHIR operation over the same matcher, consent and audit as POST /v1/match: a Parameters resource in (`resource`, `onlyCertainMatches`, `count`), ' +
    'a searchset Bundle out, best first, each Patient with an id, a fullUrl, search.score and the match-grade extension, and only the fields the token discloses. ' +
    'Needs a consent token granting `match` (the purpose is the token\'s, or the `purpose` parameter). Errors are OperationOutcome when you send Accept: application/fhir+json.',
  security: bearerSecurity,
  middleware: [requireActor('partner'), matchBudget] as const,
  request: {
    headers: consentTokenHeader,
    body: { required: true, content: { [FHIR_JSON]: { schema: matchParametersSchema }, 'application/json': { schema: matchParametersSchema } } },
  },
  responses: {
    200: { description: 'Matching Patients, best first', content: { [FHIR_JSON]: { schema: fhirBundleSchema } } },
    ...fhirProblemResponses(400, 401, 403, 429),
  },
});

const metadata = createRoute({
  method: 'get',
  path: '/fhir/metadata',
  operationId: 'fhirCapabilities',
  tags: ['matching'],
  summary: 'FHIR R4 CapabilityStatement',
  description: 'What the FHIR interface supports: the Patient resource\'s $match operation, with JSON.',
  security: publicAccess,
  responses: { 200: { description: 'The CapabilityStatement', content: { [FHIR_JSON]: { schema: capabilityStatementSchema } } } },
});

/** Written once: the same statement on every request (its date is when this exchange started). */
function capabilityStatement(started: string) {
  return {
    resourceType: 'CapabilityStatement' as const,
    status: 'active',
    date: started,
    publisher: 'Customer Exchange',
    kind: 'instance',
    software: { name: 'Customer Exchange' },
    implementation: { description: 'The Customer Exchange FHIR interface: matching customers across partners under signed consent.' },
    fhirVersion: '4.0.1',
    format: [FHIR_JSON, 'json'],
    rest: [
      {
        mode: 'server',
        documentation: 'Authenticate with an API key (Authorization: Bearer) and send the grantor\'s consent token in the Consent-Token header.',
        security: { description: 'Bearer API keys; every match needs a consent token signed by the data owner (JWS, typ consent+jwt).' },
        resource: [
          {
            type: 'Patient',
            operation: [{ name: 'match', definition: PATIENT_MATCH, documentation: 'Scored, graded matches (FHIR match grades) among the records the consent token grants.' }],
          },
        ],
      },
    ],
  };
}

export function registerFhir(app: App): void {
  const statement = JSON.stringify(capabilityStatement(new Date().toISOString()));
  app.openapi(metadata, (c) => c.body(statement, 200, { 'content-type': FHIR_JSON }) as never);
  app.openapi(patientMatch, async (c) => {
    const bundle = await matchPatient({ ctx: serviceContext(c), token: c.req.valid('header')['consent-token'], parameters: c.req.valid('json') });
    return c.body(JSON.stringify(bundle), 200, { 'content-type': FHIR_JSON }) as never;
  });
}
