/**
 * The consent token: a JWS a grantor signs to let one grantee match against (and see parts of) its
 * customer records, for one purpose, until it expires. Its claims are defined here once; the
 * published JSON Schema (standards/consent/v1/claims.schema.json) is generated from them.
 */
import { z } from 'zod';
import { consentActions, matchGrades } from '../core/grant.js';
import { lawfulBases, purposes } from '../standard/code-lists.js';
import { customerDictionary } from '../standard/publish.js';

export const CONSENT_TOKEN_TYPE = 'consent+jwt';
export const consentAlgorithms = ['EdDSA', 'ES256'] as const;
export { consentActions, matchGrades };

/**
 * Fields a grantor may disclose: every path of the field dictionary (`name.family`, `emails`,
 * `addresses[].postcode`, …) except the record's bookkeeping, which always goes with a record.
 */
export const disclosableFields: ReadonlySet<string> = new Set(
  customerDictionary()
    .map((entry) => entry.path)
    .filter((path) => path !== 'standardVersion' && path !== 'source' && !path.startsWith('source.')),
);

const disclosableField = z.string().refine((path) => disclosableFields.has(path), {
  error: (issue) => `${JSON.stringify(issue.input)} is not a field of the customer standard (see /v1/standards/customer/1/dictionary)`,
});

export const customerMatchDetailSchema = z
  .object({
    type: z.literal('customer_match').describe('Always "customer_match".'),
    actions: z.array(z.enum(consentActions)).min(1).max(2).describe('`match`: find candidates; `disclose`: return their granted fields.'),
    datasets: z.array(z.uuid()).min(1).max(100).optional().describe("The grantor's datasets the grant covers; absent means all of them."),
    fields: z.array(disclosableField).max(100).default([]).describe('Canonical field paths that may be disclosed.'),
    min_grade: z.enum(matchGrades).default('probable').describe('The weakest match grade that may be returned.'),
    max_results: z.number().int().min(1).max(100).default(10).describe('The most candidates one query may return.'),
    scores: z
      .boolean()
      .default(true)
      .describe('Whether answers may carry numeric scores (probability, match weight, per-field weights); false: grades only, so that the score cannot be read as an oracle.'),
  })
  .strict();

const numericDate = z.number().int().nonnegative();

export const consentClaimsSchema = z
  .object({
    iss: z.uuid().describe('The grantor: the id of the partner that owns the data and signed the token.'),
    sub: z.uuid().describe('The grantee: the id of the partner that may use the token.'),
    aud: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).describe("The exchange's id (EXCHANGE_ID)."),
    iat: numericDate.describe('Issued at (seconds since the epoch).'),
    nbf: numericDate.describe('Not valid before.'),
    exp: numericDate.describe('Expires at; at most the exchange\'s maximum lifetime after iat (90 days by default).'),
    jti: z.string().min(1).max(200).describe('Unique id of the token; revocation names it.'),
    purpose: z.enum(purposes).describe("The purpose of processing, from the standard's purpose vocabulary."),
    lawful_basis: z.enum(lawfulBases).describe('GDPR Art. 6 lawful basis the grantor relies on.'),
    authorization_details: z
      .array(customerMatchDetailSchema)
      .length(1)
      .describe('RFC 9396 authorization details: exactly one `customer_match` entry.'),
  })
  .strict();

export type ConsentClaims = z.infer<typeof consentClaimsSchema>;

/** What is wrong with some claims, one `path: message` each. */
export function claimProblems(error: z.ZodError): string[] {
  return error.issues.map((issue) => `${issue.path.join('.') || 'claims'}: ${issue.message}`);
}
export type ConsentClaimsInput = z.input<typeof consentClaimsSchema>;

export function consentClaimsJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(consentClaimsSchema, { target: 'draft-2020-12', io: 'input' }) as Record<string, unknown>;
  return {
    $schema: schema.$schema,
    $id: 'https://customer-exchange.dev/standards/consent/v1/claims.schema.json',
    title: 'Customer Exchange consent token claims 1.0.0',
    ...schema,
  };
}
