/**
 * Records audit events. Call it with the transaction of the change it records, so that the change
 * and its event commit together or not at all. Each event is checked against its action's schema
 * (events.ts): one that does not fit throws, and its transaction fails.
 */
import type { Actor } from '../core/actor.js';
import type { Queryable } from '../store/database.js';
import { insertAuditEvents } from '../store/audit-events.js';
import { checkedEvent, type AuditAction, type AuditEventInput } from './events.js';

export type AuditFact = { action: AuditAction; targetType: string } & Partial<Pick<AuditEventInput, 'targetId' | 'outcome' | 'details' | 'partnerId'>>;

/** Who acts, and for which request: what every event says of its origin. */
export interface AuditContext {
  actor: Actor;
  requestId: string | null;
}

function eventOf(ctx: AuditContext, fact: AuditFact): AuditEventInput {
  const { actor } = ctx;
  const actorPartnerId = actor.type === 'api_key' ? actor.partnerId : null;
  return checkedEvent({
    actorType: actor.type,
    actorId: actor.type === 'api_key' ? actor.keyId : null,
    actorPartnerId,
    partnerId: fact.partnerId ?? actorPartnerId,
    action: fact.action,
    targetType: fact.targetType,
    targetId: fact.targetId ?? null,
    outcome: fact.outcome ?? 'success',
    requestId: ctx.requestId,
    details: fact.details ?? {},
  });
}

export async function recordEvent(tx: Queryable, ctx: AuditContext, fact: AuditFact): Promise<void> {
  await insertAuditEvents(tx, [eventOf(ctx, fact)]);
}

/** Several events in one statement (one round trip), in order. */
export async function recordEvents(tx: Queryable, ctx: AuditContext, facts: AuditFact[]): Promise<void> {
  await insertAuditEvents(tx, auditEvents(ctx, facts));
}

/** Facts as the events to write, each checked against its action's schema: for a store function that writes them beside its own change. */
export function auditEvents(ctx: AuditContext, facts: AuditFact[]): AuditEventInput[] {
  return facts.map((fact) => eventOf(ctx, fact));
}
