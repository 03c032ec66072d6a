/**
 * The one way a service gets a consent grant: verify the token and record the verification, permit
 * or deny with its reason and the token's jti, in the audit log. A denial becomes the problem the
 * caller sees (401 or 403).
 */
import type { AuditEventInput } from '../audit/events.js';
import { auditEvents, recordEvent, recordEvents, type AuditFact } from '../audit/record-event.js';
import { AppError } from '../errors.js';
import type { ServiceContext } from '../services/context.js';
import type { Queryable } from '../store/database.js';
import type { ConsentGrant } from '../core/grant.js';
import { ConsentDenial, verifyConsentToken, type ConsentRequest } from './verify.js';

function permitted(request: ConsentRequest, grant: ConsentGrant): AuditFact {
  return {
    action: 'consent.verify',
    targetType: 'consent',
    targetId: grant.jti,
    partnerId: grant.grantorId,
    details: { purpose: request.purpose, action: request.action, grantee: request.callerId, decision: 'permit', jti: grant.jti, grantor: grant.grantorId, datasets: grant.datasets, fields: grant.fields },
  };
}

export async function authorizeConsent(ctx: ServiceContext, request: ConsentRequest): Promise<ConsentGrant> {
  const grant = await verifyOrRefuse(ctx, request);
  // One statement: it commits on its own, whatever the request does next.
  await recordEvent(ctx.db, ctx, permitted(request, grant));
  return grant;
}

/** A refusal that is itself an event of the log (a probe budget spent): its fact is recorded with the verification's. */
export class AuditedRefusal extends AppError {
  constructor(
    code: ConstructorParameters<typeof AppError>[0],
    message: string,
    readonly fact: AuditFact,
    options: ConstructorParameters<typeof AppError>[2] = {},
  ) {
    super(code, message, options);
  }
}

/**
 * For a read that records its own event: the verification's event and the read's are written
 * together once the read is done; if the read fails, the verification's alone. A read's `commit`
 * (a write that must stand or fall with the answer) is given those events to write in the same
 * atomic write, and gives the answer as it stands once written; if it refuses (writing nothing),
 * that refusal is recorded instead.
 */
export async function withConsent<T>(
  ctx: ServiceContext,
  request: ConsentRequest,
  read: (grant: ConsentGrant) => Promise<{ result: T; event: AuditFact; commit?: (db: Queryable, events: AuditEventInput[]) => Promise<T> }>,
): Promise<T> {
  const grant = await verifyOrRefuse(ctx, request);
  let outcome: Awaited<ReturnType<typeof read>>;
  try {
    outcome = await read(grant);
  } catch (error) {
    await recordEvent(ctx.db, ctx, permitted(request, grant));
    throw error;
  }
  const { commit } = outcome;
  const verified = permitted(request, grant);
  if (!commit) {
    await recordEvents(ctx.db, ctx, [verified, outcome.event]);
    return outcome.result;
  }
  try {
    return await commit(ctx.db, auditEvents(ctx, [verified, outcome.event]));
  } catch (error) {
    await recordEvents(ctx.db, ctx, [verified, ...(error instanceof AuditedRefusal ? [error.fact] : [])]);
    throw error;
  }
}

async function verifyOrRefuse(ctx: ServiceContext, request: ConsentRequest): Promise<ConsentGrant> {
  const requested = { purpose: request.purpose, action: request.action, grantee: request.callerId };
  try {
    return await verifyConsentToken(ctx.db, ctx.config, request);
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
