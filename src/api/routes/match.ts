/** Fuzzy matching of a customer against a grantor's records, under its consent token. */
import { createRoute, z } from '@hono/zod-openapi';
import { matchCustomer, matchInput, matchResultSchema } from '../../services/match-customer.js';
import { matchBundle } from '../../services/match-patient.js';
import type { App } from '../app.js';
import { serviceContext } from '../env.js';
import { FHIR_JSON, fhirBundleSchema } from '../fhir.js';
import { matchBudget } from '../middleware/rate-limit.js';
import { requireActor } from '../middleware/require-actor.js';
import { bearerSecurity, consentTokenHeader } from '../openapi.js';
import { problemResponses, wantsFhir } from '../problem.js';

const match = createRoute({
  method: 'post',
  path: '/v1/match',
  operationId: 'matchCustomer',
  tags: ['matching'],
  summary: "Which of the grantor's customers is this? Scored, graded and explained candidates",
  description:
    "Needs a consent token (Consent-Token header) that grants `match` to you for `purpose`. Results are graded certain, probable or possible " +
    "(FHIR match grades), no weaker than the token's min_grade and at most its max_results; `record` holds only the fields it discloses. " +
    'Send `?format=fhir` (or Accept: application/fhir+json) for a FHIR Bundle with search.score and the match-grade extension.',
  security: bearerSecurity,
  middleware: [requireActor('partner'), matchBudget] as const,
  request: {
    headers: consentTokenHeader,
    query: z.object({ format: z.enum(['json', 'fhir']).optional() }),
    body: { required: true, content: { 'application/json': { schema: matchInput } } },
  },
  responses: {
    200: {
      description: 'Candidates, best first',
      content: {
        'application/json': { schema: z.object({ results: z.array(matchResultSchema), candidates: z.number().int().describe('Candidates the blocking rules retrieved and the model scored.') }) },
        [FHIR_JSON]: { schema: fhirBundleSchema },
      },
    },
    ...problemResponses(400, 401, 403, 429),
  },
});

export function registerMatch(app: App): void {
  app.openapi(match, async (c) => {
    const ctx = serviceContext(c);
    const answer = await matchCustomer({ ctx, token: c.req.valid('header')['consent-token'], input: c.req.valid('json') });
    if (c.req.valid('query').format === 'fhir' || wantsFhir(c)) {
      return c.body(JSON.stringify(matchBundle(ctx, answer.results)), 200, { 'content-type': FHIR_JSON }) as never;
    }
    return c.json(answer, 200);
  });
}
