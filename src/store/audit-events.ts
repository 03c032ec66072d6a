/**
 * Audit events: written in the transaction of the change they record, and queued for the log's
 * integrator in the same statement (the outbox). Read back by filters, in order, with a cursor.
 */
import { z } from 'zod';
import { auditEventInputSchema, type AuditEventInput } from '../audit/events.js';
import type { Queryable } from './database.js';

export const auditEventSchema = auditEventInputSchema.extend({
  id: z.number().int(),
  occurredAt: z.date(),
  /** The event's index in the transparency log, once integrated. */
  logIndex: z.number().int().nullable(),
});
export type AuditEvent = z.infer<typeof auditEventSchema>;

const columns = ['actor_type', 'actor_id', 'actor_partner_id', 'partner_id', 'action', 'target_type', 'target_id', 'outcome', 'request_id', 'details'] as const;
const casts: Partial<Record<(typeof columns)[number], string>> = { actor_partner_id: '::uuid', partner_id: '::uuid', details: '::jsonb' };
const values = (e: AuditEventInput) => [e.actorType, e.actorId, e.actorPartnerId, e.partnerId, e.action, e.targetType, e.targetId, e.outcome, e.requestId, e.details];

const selected = `e.id, e.occurred_at AS "occurredAt", e.actor_type AS "actorType", e.actor_id AS "actorId", e.actor_partner_id AS "actorPartnerId",
  e.partner_id AS "partnerId", e.action, e.target_type AS "targetType", e.target_id AS "targetId", e.outcome, e.request_id AS "requestId", e.details,
  (SELECT l.idx FROM audit_log_entries l WHERE l.event_id = e.id) AS "logIndex"`;

/**
 * The common table expressions that write events and queue them for the log, for a statement that
 * writes something else beside them; parameters numbered from $first; written only `when` that
 * condition holds (over the statement's other expressions).
 */
export function auditEventsWrite(events: AuditEventInput[], first: number, when?: string): { sql: string; params: unknown[] } {
  const rows = events.map((_, i) => `(${columns.map((c, j) => `$${first + i * columns.length + j}${casts[c] ?? ''}`).join(', ')})`).join(', ');
  return {
    sql: `written AS (INSERT INTO audit_events (${columns.join(', ')}) ${when ? `SELECT * FROM (VALUES ${rows}) AS v WHERE ${when}` : `VALUES ${rows}`} RETURNING id),
     queued AS (INSERT INTO audit_log_pending (event_id) SELECT id FROM written)`,
    params: events.flatMap(values),
  };
}

/** Several events in one statement, in the order given (ids ascend with it), each queued for the log. */
export async function insertAuditEvents(db: Queryable, events: AuditEventInput[]): Promise<void> {
  if (!events.length) return;
  const { sql, params } = auditEventsWrite(events, 1);
  await db.query(`WITH ${sql} SELECT count(*) FROM written`, params);
}

export interface AuditFilter {
  action?: string;
  outcome?: string;
  /** Events where this partner acted or is the subject. */
  partnerId?: string;
  jti?: string;
  datasetId?: string;
  from?: Date;
  to?: Date;
  /** The last id of the previous page. */
  after?: number;
  limit?: number;
}

/** Events matching every filter given, in order of id. */
export async function selectAuditEvents(db: Queryable, filter: AuditFilter = {}): Promise<AuditEvent[]> {
  return db.query<AuditEvent>(
    `SELECT ${selected} FROM audit_events e
     WHERE ($1::text IS NULL OR e.action = $1)
       AND ($2::text IS NULL OR e.outcome = $2)
       AND ($3::uuid IS NULL OR e.partner_id = $3 OR e.actor_partner_id = $3 OR e.details ->> 'grantee' = $3::text)
       AND ($4::text IS NULL OR e.details ->> 'jti' = $4 OR (e.target_type = 'consent' AND e.target_id = $4))
       AND ($5::text IS NULL OR e.details ->> 'datasetId' = $5 OR e.details ->> 'leftDatasetId' = $5 OR e.details ->> 'rightDatasetId' = $5
            OR (e.target_type = 'dataset' AND e.target_id = $5))
       AND ($6::timestamptz IS NULL OR e.occurred_at >= $6)
       AND ($7::timestamptz IS NULL OR e.occurred_at < $7)
       AND e.id > $8
     ORDER BY e.id LIMIT $9`,
    [
      filter.action ?? null,
      filter.outcome ?? null,
      filter.partnerId ?? null,
      filter.jti ?? null,
      filter.datasetId ?? null,
      filter.from ?? null,
      filter.to ?? null,
      filter.after ?? 0,
      filter.limit ?? 1000,
    ],
  );
}

/** Counts by partner (as subject), action and outcome, within the filter (auditor summaries). */
export async function countAuditEvents(db: Queryable, filter: Pick<AuditFilter, 'partnerId' | 'from' | 'to'>) {
  return db.query<{ partnerId: string | null; action: string; outcome: string; purpose: string | null; events: number }>(
    `SELECT e.partner_id AS "partnerId", e.action, e.outcome, e.details ->> 'purpose' AS purpose, count(*)::int AS events
     FROM audit_events e
     WHERE ($1::uuid IS NULL OR e.partner_id = $1 OR e.actor_partner_id = $1 OR e.details ->> 'grantee' = $1::text)
       AND ($2::timestamptz IS NULL OR e.occurred_at >= $2) AND ($3::timestamptz IS NULL OR e.occurred_at < $3)
     GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`,
    [filter.partnerId ?? null, filter.from ?? null, filter.to ?? null],
  );
}
