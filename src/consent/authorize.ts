/**
 * The one way a service gets a consent grant: verify the token and record the verification, permit
 * or deny with its reason and the token's jti, in the audit log. A denial becomes the problem the
 * caller sees (401 or 403).
 */
import { recordEvent } from '../audit/record-event.js';
import { AppError } from '../errors.js';
import type { ServiceContext } from '../services/context.js';
import type { ConsentGrant } from './grant.js';
import { ConsentDenial, verifyConsentToken, type ConsentRequest } from './verify.js';

export async function authorizeConsent(ctx: ServiceContext, request: ConsentRequest): Promise<ConsentGrant> {
  const requested = { purpose: request.purpose, action: request.action, grantee: request.callerId };
  try {
    const grant = await verifyConsentToken(ctx.db, ctx.config, request);
    // One statement: it commits on its own, whatever the request does next.
    await recordEvent(ctx.db, ctx, {
        action: 'consent.verify',
        targetType: 'consent',
        targetId: grant.jti,
        partnerId: grant.grantorId,
        details: { ...requested, decision: 'permit', jti: grant.jti, grantor: grant.grantorId, datasets: grant.datasets, fields: grant.fields },
      });
    return grant;
  } catch (error) {
    if (!(error instanceof ConsentDenial)) throw error;
    await recordEvent(ctx.db, ctx, {
        action: 'consent.verify',
        targetType: 'consent',
        targetId: error.claimed.jti ?? null,
        outcome: 'denied',
        // Before the signature verifies, the claimed grantor is only a claim: file it under the caller.
        partnerId: error.claimed.verified ? error.claimed.grantorId : request.callerId,
        details: {
          ...requested,
          decision: 'deny',
          reason: error.reason,
          jti: error.claimed.jti ?? null,
          signatureVerified: error.claimed.verified,
          ...(error.claimed.verified ? { grantor: error.claimed.grantorId } : {}),
        },
      });
    throw new AppError(error.status === 401 ? 'unauthenticated' : 'forbidden', error.message, { reason: error.reason, cause: error });
  }
}
