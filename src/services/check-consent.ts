import { z } from 'zod';
import { authorizeConsent } from '../consent/authorize.js';
import { consentActions, matchGrades } from '../core/grant.js';
import { purposes } from '../standard/code-lists.js';
import type { ServiceContext } from './context.js';
import { requirePartner } from './datasets.js';

export const checkConsentInput = z
  .object({
    purpose: z.enum(purposes).describe('The purpose you will state when you use the token.'),
    action: z.enum(consentActions).default('match'),
  })
  .strict();

export const consentGrantSchema = z.object({
  jti: z.string(),
  grantor: z.uuid(),
  grantee: z.uuid(),
  purpose: z.enum(purposes),
  actions: z.array(z.enum(consentActions)),
  datasets: z.array(z.uuid()).nullable().describe("null: all of the grantor's datasets"),
  fields: z.array(z.string()),
  minGrade: z.enum(matchGrades),
  maxResults: z.number().int(),
  expiresAt: z.date(),
});

/** A grantee checks a token it was given, exactly as a request would (and the check is audited). */
export async function checkConsent({ ctx, token, input }: { ctx: ServiceContext; token: string | undefined; input: z.input<typeof checkConsentInput> }): Promise<z.infer<typeof consentGrantSchema>> {
  const callerId = requirePartner(ctx);
  const { purpose, action } = checkConsentInput.parse(input);
  const grant = await authorizeConsent(ctx, { token, callerId, purpose, action });
  return {
    jti: grant.jti,
    grantor: grant.grantorId,
    grantee: grant.granteeId,
    purpose: grant.purpose,
    actions: [...grant.actions],
    datasets: grant.datasets && [...grant.datasets],
    fields: [...grant.fields],
    minGrade: grant.minGrade,
    maxResults: grant.maxResults,
    expiresAt: grant.expiresAt,
  };
}
