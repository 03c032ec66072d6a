/** Fuzzy matching of a customer against a grantor's records, under its consent token. */
import { createRoute, z } from '@hono/zod-openapi';
import { matchCustomer, matchInput, matchResultSchema, type MatchResult } from '../../services/match-customer.js';
import type { App } from '../app.js';
import { serviceContext } from '../env.js';
import { matchBudget } from '../middleware/rate-limit.js';
import { requireActor } from '../middleware/require-actor.js';
import { bearerSecurity, consentTokenHeader } from '../openapi.js';
import { problemResponses } from '../problem.js';

/** The FHIR R4 answer (?format=fhir or Accept: application/fhir+json), as `fhirBundle` writes it. */
const fhirBundleSchema = z
  .object({
    resourceType: z.literal('Bundle'),
    type: z.literal('searchset'),
    total: z.number().int(),
    entry: z.array(
      z.object({
        resource: z.object({
          resourceType: z.literal('Patient'),
          identifier: z.array(z.object({ system: z.string().describe('urn:customer-exchange:dataset:{datasetId}'), value: z.string() })),
          name: z.array(z.object({ family: z.string().optional(), given: z.array(z.string()).optional(), text: z.string().optional() })).optional(),
          birthDate: z.string().optional(),
        }),
        search: z.object({
          mode: z.literal('match'),
          score: z.number().min(0).max(1).optional(),
          extension: z.array(z.object({ url: z.literal('http://hl7.org/fhir/StructureDefinition/match-grade'), valueCode: z.enum(['certain', 'probable', 'possible', 'certainly-not']) })),
        }),
      }),
    ),
  })
  .openapi('FhirMatchBundle', { description: 'A FHIR R4 searchset Bundle of Patient resources (granted fields only) with search.score and the match-grade extension.' });

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
        'application/fhir+json': { schema: fhirBundleSchema },
      },
    },
    ...problemResponses(400, 401, 403, 429),
  },
});

/** A FHIR R4 searchset Bundle, as $match answers: score and match grade per entry. */
function fhirBundle(results: MatchResult[]) {
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    total: results.length,
    entry: results.map((result) => {
      const record = (result.record ?? {}) as { name?: { given?: string; family?: string; full?: string }; birthDate?: string; gender?: string };
      return {
        resource: {
          resourceType: 'Patient',
          identifier: [{ system: `urn:customer-exchange:dataset:${result.datasetId}`, value: result.sourceId }],
          ...(record.name ? { name: [{ ...(record.name.family ? { family: record.name.family } : {}), ...(record.name.given ? { given: [record.name.given] } : {}), ...(record.name.full ? { text: record.name.full } : {}) }] } : {}),
          ...(record.birthDate ? { birthDate: record.birthDate } : {}),
        },
        search: {
          mode: 'match',
          ...(result.probability !== undefined ? { score: result.probability } : {}),
          extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/match-grade', valueCode: result.grade }],
        },
      };
    }),
  };
}

export function registerMatch(app: App): void {
  app.openapi(match, async (c) => {
    const answer = await matchCustomer({ ctx: serviceContext(c), token: c.req.valid('header')['consent-token'], input: c.req.valid('json') });
    if (c.req.valid('query').format === 'fhir' || (c.req.header('accept') ?? '').includes('application/fhir+json')) {
      return c.body(JSON.stringify(fhirBundle(answer.results)), 200, { 'content-type': 'application/fhir+json' }) as never;
    }
    return c.json(answer, 200);
  });
}
