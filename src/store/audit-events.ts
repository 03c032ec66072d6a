import { z } from 'zod';
import type { Queryable } from './database.js';

export const auditOutcomeSchema = z.enum(['success', 'denied', 'failure']);
export const actorTypeSchema = z.enum(['api_key', 'operator', 'system']);

export const auditEventInputSchema = z.object({
  actorType: actorTypeSchema,
  actorId: z.string().nullable(),
  partnerId: z.uuid().nullable(),
  action: z.string().regex(/^[a-z_]+\.[a-z_]+$/, 'actions are entity.verb'),
  targetType: z.string(),
  targetId: z.string().nullable(),
  outcome: auditOutcomeSchema,
  requestId: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
});
export type AuditEventInput = z.infer<typeof auditEventInputSchema>;

export const auditEventSchema = auditEventInputSchema.extend({ id: z.number().int(), occurredAt: z.date() });
export type AuditEvent = z.infer<typeof auditEventSchema>;

export async function insertAuditEvent(db: Queryable, event: AuditEventInput): Promise<AuditEvent> {
  const rows = await db.query<AuditEvent>(
    `INSERT INTO audit_events (actor_type, actor_id, partner_id, action, target_type, target_id, outcome, request_id, details)
     VALUES ($1, $2, $3::uuid, $4, $5, $6, $7, $8, $9::jsonb)
     RETURNING id, occurred_at AS "occurredAt", actor_type AS "actorType", actor_id AS "actorId", partner_id AS "partnerId",
       action, target_type AS "targetType", target_id AS "targetId", outcome, request_id AS "requestId", details`,
    [
      event.actorType,
      event.actorId,
      event.partnerId,
      event.action,
      event.targetType,
      event.targetId,
      event.outcome,
      event.requestId,
      event.details,
    ],
  );
  return rows[0]!;
}

/** Several events in one statement, in the order given (ids ascend with it). */
export async function insertAuditEvents(db: Queryable, events: AuditEventInput[]): Promise<void> {
  if (!events.length) return;
  const columns = ['actor_type', 'actor_id', 'partner_id', 'action', 'target_type', 'target_id', 'outcome', 'request_id', 'details'];
  const values = events.map((_, i) => `(${columns.map((c, j) => `$${i * columns.length + j + 1}${c === 'partner_id' ? '::uuid' : c === 'details' ? '::jsonb' : ''}`).join(', ')})`);
  await db.query(
    `INSERT INTO audit_events (${columns.join(', ')}) VALUES ${values.join(', ')}`,
    events.flatMap((e) => [e.actorType, e.actorId, e.partnerId, e.action, e.targetType, e.targetId, e.outcome, e.requestId, e.details]),
  );
}

export async function selectAuditEvents(db: Queryable, filter: { action?: string; limit?: number } = {}): Promise<AuditEvent[]> {
  return db.query<AuditEvent>(
    `SELECT id, occurred_at AS "occurredAt", actor_type AS "actorType", actor_id AS "actorId", partner_id AS "partnerId",
       action, target_type AS "targetType", target_id AS "targetId", outcome, request_id AS "requestId", details
     FROM audit_events WHERE ($1::text IS NULL OR action = $1) ORDER BY id LIMIT $2`,
    [filter.action ?? null, filter.limit ?? 1000],
  );
}
