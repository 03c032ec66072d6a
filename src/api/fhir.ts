/** The FHIR R4 resources the API answers with, as its OpenAPI document describes them. */
import { z } from '@hono/zod-openapi';
import { fhirPatientSchema } from '../standard/fhir-patient.js';
import { problemContent, problemResponses } from './problem.js';

export const FHIR_JSON = 'application/fhir+json';

const coding = z.object({ system: z.string().optional(), code: z.string() });

export const fhirBundleSchema = z
  .object({
    resourceType: z.literal('Bundle'),
    type: z.literal('searchset'),
    total: z.number().int(),
    entry: z.array(
      z.object({
        fullUrl: z.string().describe('urn:uuid:{the Patient\'s id}'),
        resource: fhirPatientSchema,
        search: z.object({
          mode: z.literal('match'),
          score: z.number().min(0).max(1).optional(),
          extension: z.array(z.object({ url: z.literal('http://hl7.org/fhir/StructureDefinition/match-grade'), valueCode: z.enum(['certain', 'probable', 'possible', 'certainly-not']) })),
        }),
      }),
    ),
  })
  .openapi('FhirMatchBundle', { description: 'A FHIR R4 searchset Bundle of Patient resources (granted fields only), best first, with search.score and the match-grade extension.' });

export const operationOutcomeSchema = z
  .object({
    resourceType: z.literal('OperationOutcome'),
    id: z.string().optional().describe('The request id.'),
    issue: z.array(
      z.object({
        severity: z.literal('error'),
        code: z.string().describe('http://hl7.org/fhir/issue-type'),
        details: z.object({ coding: z.array(coding).optional(), text: z.string() }),
        diagnostics: z.string(),
        expression: z.array(z.string()).optional(),
      }),
    ),
  })
  .openapi('OperationOutcome', { description: 'A FHIR R4 OperationOutcome: the error answer when the request asks for application/fhir+json.' });

export const capabilityStatementSchema = z
  .object({ resourceType: z.literal('CapabilityStatement'), status: z.string(), kind: z.string(), fhirVersion: z.string(), format: z.array(z.string()), rest: z.array(z.record(z.string(), z.unknown())) })
  .openapi('CapabilityStatement', { description: 'A FHIR R4 CapabilityStatement: what the exchange\'s FHIR interface supports.' });

/** Problem answers of a FHIR route: problem+json, or OperationOutcome for a client that asks for FHIR. */
export function fhirProblemResponses(...statuses: number[]) {
  return Object.fromEntries(
    Object.entries(problemResponses(...statuses)).map(([status, response]) => [status, { ...response, content: { ...problemContent, [FHIR_JSON]: { schema: operationOutcomeSchema } } }]),
  );
}
