/**
 * FHIR R4 Patient/$match over the exchange's matcher: a Parameters resource in, a searchset
 * Bundle out, under the same consent token, grades, limits and audit as POST /v1/match.
 */
import { decodeJwt } from 'jose';
import { z, ZodError } from 'zod';
import { secretsFor } from '../core/secrets.js';
import { AppError, invalidInput } from '../errors.js';
import { purposes } from '../standard/code-lists.js';
import { fhirPatientSchema, patientCriteria, recordToPatient } from '../standard/fhir-patient.js';
import type { ServiceContext } from './context.js';
import { matchCustomer, type MatchResult } from './match-customer.js';

const MATCH_GRADE = 'http://hl7.org/fhir/StructureDefinition/match-grade';
const parameterNames = ['resource', 'onlyCertainMatches', 'count', 'purpose'] as const;

export const matchParametersSchema = z
  .object({
    resourceType: z.literal('Parameters'),
    parameter: z
      .array(
        z.looseObject({
          name: z.enum(parameterNames, { message: `$match takes ${parameterNames.join(', ')}` }),
          resource: fhirPatientSchema.optional(),
          valueBoolean: z.boolean().optional(),
          valueInteger: z.number().int().optional(),
          valueCode: z.string().optional(),
        }),
      )
      .min(1),
  })
  .meta({
    id: 'FhirMatchParameters',
    description:
      'The $match input: `resource` (the Patient), `onlyCertainMatches` (valueBoolean), `count` (valueInteger, at most 100), and optionally `purpose` ' +
      '(valueCode, from the purpose code list; without it, the purpose the consent token grants).',
    examples: [
      {
        resourceType: 'Parameters',
        parameter: [
          { name: 'resource', resource: { resourceType: 'Patient', name: [{ family: 'Berry', given: ['Lachlan'] }], birthDate: '1999-02-19' } },
          { name: 'onlyCertainMatches', valueBoolean: false },
          { name: 'count', valueInteger: 5 },
        ],
      },
    ],
  });
export type MatchParameters = z.infer<typeof matchParametersSchema>;

/** Where each criterion comes from in the Patient, for errors a FHIR client can follow. */
const criterionPath: Record<string, string> = {
  given: '/name/0/given',
  family: '/name/0/family',
  full: '/name/0/text',
  birthDate: '/birthDate',
  gender: '/gender',
  email: '/telecom',
  phone: '/telecom',
  street: '/address/0/line',
  locality: '/address/0/city',
  postcode: '/address/0/postalCode',
  country: '/address/0/country',
  identifier: '/identifier',
};

/**
 * A Patient's id in the answer: a UUID derived from the record's keyed pseudonym, so the same
 * record has the same id in every answer while saying nothing of its source id.
 */
export function patientId(ctx: ServiceContext, result: Pick<MatchResult, 'datasetId' | 'sourceId'>): string {
  const bytes = Buffer.from(secretsFor(ctx.config).pseudonym('fhir-patient', result.datasetId, result.sourceId), 'base64url').subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x80; // version 8: custom (RFC 9562)
  bytes[8] = (bytes[8]! & 0x3f) | 0x80; // the RFC variant
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Match results as a FHIR searchset Bundle, best first: each Patient with an id, a fullUrl, its score and match grade. */
export function matchBundle(ctx: ServiceContext, results: MatchResult[]) {
  return {
    resourceType: 'Bundle' as const,
    type: 'searchset' as const,
    total: results.length,
    entry: results.map((result) => {
      const id = patientId(ctx, result);
      return {
        fullUrl: `urn:uuid:${id}`,
        resource: recordToPatient(id, { system: `urn:customer-exchange:dataset:${result.datasetId}`, value: result.sourceId }, result.record ?? {}),
        search: {
          mode: 'match' as const,
          ...(result.probability !== undefined ? { score: result.probability } : {}),
          extension: [{ url: MATCH_GRADE, valueCode: result.grade }],
        },
      };
    }),
  };
}

/**
 * The purpose a $match asks for: its `purpose` parameter, or else the purpose its token names
 * (a FHIR client has no other place to say it). The token's signature, grantee and every other
 * claim are still verified as for any match; an unreadable or missing token is refused there.
 */
function purposeOf(stated: string | undefined, token: string | undefined): string {
  if (stated) return stated;
  try {
    const claimed = token ? decodeJwt(token).purpose : undefined;
    if (typeof claimed === 'string' && (purposes as readonly string[]).includes(claimed)) return claimed;
  } catch {
    // Not a JWT: verification refuses it with its reason.
  }
  return purposes[0];
}

function invalid(errors: { path: string; message: string }[]): AppError {
  return new AppError('validation_failed', 'The $match Parameters are not valid; see errors[].', { errors });
}

export async function matchPatient({ ctx, token, parameters }: { ctx: ServiceContext; token: string | undefined; parameters: MatchParameters }) {
  const named = (name: (typeof parameterNames)[number]) => parameters.parameter.map((p, index) => ({ p, index })).filter(({ p }) => p.name === name);
  const resources = named('resource');
  if (resources.length !== 1) throw invalid([{ path: '/parameter', message: 'give exactly one parameter "resource" holding the Patient to match' }]);
  const { p: resourceParameter, index } = resources[0]!;
  const base = `/parameter/${index}/resource`;
  if (!resourceParameter.resource) throw invalid([{ path: base, message: 'the parameter "resource" must hold a Patient' }]);

  const countParameter = named('count')[0];
  const count = countParameter?.p.valueInteger;
  if (count !== undefined && count < 1) throw invalid([{ path: `/parameter/${countParameter!.index}/valueInteger`, message: 'count must be at least 1' }]);
  const input = {
    purpose: purposeOf(named('purpose')[0]?.p.valueCode, token) as (typeof purposes)[number],
    criteria: patientCriteria(resourceParameter.resource),
    limit: Math.min(count ?? 10, 100),
    ...(named('onlyCertainMatches')[0]?.p.valueBoolean ? { minGrade: 'certain' as const } : {}),
  };
  try {
    const { results } = await matchCustomer({ ctx, token, input });
    return matchBundle(ctx, results);
  } catch (thrown) {
    const error = thrown instanceof ZodError ? invalidInput(thrown) : thrown;
    if (!(error instanceof AppError) || error.code !== 'validation_failed' || !error.errors) throw error;
    // The criteria's errors, said of the Patient they were read from.
    throw invalid(
      error.errors.map(({ path, message }) => {
        const criterion = /^\/criteria\/([a-zA-Z]+)/.exec(path)?.[1];
        if (criterion) return { path: `${base}${criterionPath[criterion] ?? ''}`, message };
        if (path === '/criteria') {
          return { path: base, message: 'the Patient needs a name (name.family, name.given or name.text) and at least one of birthDate, an email or phone in telecom, an identifier, address.postalCode or address.line' };
        }
        const purpose = named('purpose')[0];
        if (path === '/purpose' && purpose) return { path: `/parameter/${purpose.index}/valueCode`, message };
        return { path, message };
      }),
    );
  }
}
