/**
 * The closed vocabulary of audit events: one schema per action, strict, so that an event carries
 * only codes, counts, identifiers the exchange made (uuids, key ids, consent token ids) and keyed
 * pseudonyms of records, never a value from a customer record, a source id or free text. An event
 * that does not fit is a programming error: recording it throws, and its transaction fails.
 */
import { z } from 'zod';

const uuid = z.uuid();
const code = z.string().regex(/^[a-z0-9_.:-]{1,80}$/, 'a code: lower case letters, digits and _ . : -');
const count = z.number().int().nonnegative();
/** A keyed pseudonym of a record (src/core/secrets.ts recordPseudonym). */
const pseudonym = z.string().regex(/^rec_[A-Za-z0-9_-]{32}$/);
const jti = z.string().min(1).max(200);
/** Field names of the standard (criteria, granted fields): names only, never values. */
const fieldName = z.string().regex(/^[A-Za-z][A-Za-z0-9_.\[\]]{0,63}$/);
const purpose = code;
const mappingName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/);

const details = <T extends z.ZodRawShape>(shape: T) => z.object(shape).strict();
const none = details({});

const consentDecision = details({
  purpose,
  action: code,
  grantee: uuid,
  decision: z.literal('permit'),
  jti,
  grantor: uuid,
  datasets: z.array(uuid).nullable(),
  fields: z.array(fieldName),
});
const consentDenial = details({
  purpose: z.string().max(80),
  action: z.string().max(80),
  grantee: uuid,
  decision: z.literal('deny'),
  reason: code,
  jti: jti.nullable(),
  signatureVerified: z.boolean(),
  grantor: uuid.optional(),
});

export const auditDetailsByAction = {
  'partner.create': details({ slug: z.string().regex(/^[a-z0-9-]{1,64}$/) }),
  'partner_keys.replace': details({ kids: z.array(z.string().max(200)), added: count, retired: count }),
  'api_key.create': details({ role: z.enum(['partner', 'auditor', 'admin']) }),
  'api_key.revoke': none,
  /** Failed authentications, counted per key (or none) and client address per minute. */
  'auth.fail': details({ reason: code, keyId: z.string().max(64).nullable(), address: z.string().regex(/^[0-9a-f]{16}$/), minute: z.string(), count }),
  'dataset.create': none,
  'mapping.create': details({ rules: count, format: code }),
  'mapping.replace': details({ rules: count, format: code }),
  'upload.complete': details({ datasetId: uuid, mapping: mappingName, bytes: count, rows: count, rejected: count, inserted: count, updated: count, unchanged: count }),
  'upload.reject': details({ datasetId: uuid, reason: code }),
  'record.erase': details({ record: pseudonym, versions: count, uploadReports: count, linkageResults: count }),
  'record.erasure_lift': details({ requested: count, lifted: count }),
  'record.disclose': details({ jti, grantee: uuid, purpose, version: count, fields: z.array(fieldName) }),
  'consent.verify': z.union([consentDecision, consentDenial]),
  'consent.revoke': details({ jti, reasonGiven: z.boolean() }),
  'match.query': details({
    jti,
    grantee: uuid,
    purpose,
    criteria: z.array(fieldName),
    candidates: count,
    results: z.array(details({ datasetId: uuid, record: pseudonym, grade: code, model: code.optional() })),
    disclosedFields: z.array(fieldName),
  }),
  'match.refuse': details({ jti, grantee: uuid, purpose, reason: code, budget: count }),
  'linkage_job.create': details({
    jti,
    grantor: uuid,
    leftDatasetId: uuid,
    rightDatasetId: uuid,
    purpose,
    threshold: z.number(),
    oneToOne: z.boolean().optional(),
    cluster: z.boolean().optional(),
    /** The model that scores it: "default" or a trained model's id. */
    model: code.optional(),
  }),
  'linkage_job.complete': details({ jti, grantor: uuid, candidatePairs: count, links: count }),
  'linkage_job.fail': details({ jti, reason: code }),
  /** A model trained on one of the partner's datasets, or its training refused (degenerate, too little data). */
  'model.train': details({ datasetId: uuid, pairs: count }),
  'model.fail': details({ datasetId: uuid, reason: code }),
  /** A dataset names the model its matches use (null: the default again). */
  'dataset.model': details({ model: uuid.nullable() }),
  'audit.read': details({ what: code, filters: z.array(code), returned: count }),
  'audit.export': details({ format: code, filters: z.array(code), returned: count }),
} as const;

export type AuditAction = keyof typeof auditDetailsByAction;
export const auditActions = Object.keys(auditDetailsByAction) as [AuditAction, ...AuditAction[]];
export type AuditDetails<A extends AuditAction> = z.infer<(typeof auditDetailsByAction)[A]>;

export const auditOutcomeSchema = z.enum(['success', 'denied', 'failure']);
export const actorTypeSchema = z.enum(['api_key', 'operator', 'system']);

/** An event as it is written: who, on whose behalf, what, on what, with what outcome. */
export const auditEventInputSchema = z.object({
  actorType: actorTypeSchema,
  actorId: z.string().max(64).nullable(),
  /** The partner the acting key belongs to, when a partner acted. */
  actorPartnerId: uuid.nullable(),
  /** The partner the event is about (the data's owner, the grantor). */
  partnerId: uuid.nullable(),
  action: z.enum(auditActions),
  targetType: code,
  /** Exchange-made identifiers only (uuids, key ids, token ids, mapping names, pseudonyms). */
  targetId: z.string().max(200).nullable(),
  outcome: auditOutcomeSchema,
  requestId: z.string().max(200).nullable(),
  details: z.record(z.string(), z.unknown()),
});
export type AuditEventInput = z.infer<typeof auditEventInputSchema>;

export class InvalidAuditEvent extends Error {
  override readonly name = 'InvalidAuditEvent';
}

/** Checks an event against its action's schema; throws (failing the transaction) when it does not fit. */
export function checkedEvent(event: AuditEventInput): AuditEventInput {
  const envelope = auditEventInputSchema.safeParse(event);
  if (!envelope.success) throw new InvalidAuditEvent(`audit event ${event.action}: ${envelope.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const parsed = auditDetailsByAction[event.action].safeParse(event.details);
  if (!parsed.success) throw new InvalidAuditEvent(`audit event ${event.action}: ${parsed.error.issues.map((i) => `details.${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return { ...envelope.data, details: parsed.data as Record<string, unknown> };
}
