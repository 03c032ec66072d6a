/**
 * Records an audit event. Call it with the transaction of the change it records, so that the
 * change and its event commit together or not at all. Details must carry no personal data.
 */
import type { Queryable } from '../store/database.js';
import { insertAuditEvent, insertAuditEvents, type AuditEvent, type AuditEventInput } from '../store/audit-events.js';
import type { ServiceContext } from '../services/context.js';

export type AuditFact = Pick<AuditEventInput, 'action' | 'targetType'> &
  Partial<Pick<AuditEventInput, 'targetId' | 'outcome' | 'details' | 'partnerId'>>;

function eventOf(ctx: Pick<ServiceContext, 'actor' | 'requestId'>, fact: AuditFact): AuditEventInput {
  const { actor } = ctx;
  return {
    actorType: actor.type,
    actorId: actor.type === 'api_key' ? actor.keyId : null,
    partnerId: fact.partnerId ?? (actor.type === 'api_key' ? actor.partnerId : null),
    action: fact.action,
    targetType: fact.targetType,
    targetId: fact.targetId ?? null,
    outcome: fact.outcome ?? 'success',
    requestId: ctx.requestId,
    details: fact.details ?? {},
  };
}

export async function recordEvent(tx: Queryable, ctx: Pick<ServiceContext, 'actor' | 'requestId'>, fact: AuditFact): Promise<AuditEvent> {
  return insertAuditEvent(tx, eventOf(ctx, fact));
}

/** Several events in one statement (one round trip), in order. */
export async function recordEvents(tx: Queryable, ctx: Pick<ServiceContext, 'actor' | 'requestId'>, facts: AuditFact[]): Promise<void> {
  await insertAuditEvents(tx, facts.map((fact) => eventOf(ctx, fact)));
}
