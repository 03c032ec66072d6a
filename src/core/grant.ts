/**
 * A verified consent grant: what one request may do with one grantor's records. Only
 * verifyConsentToken makes them, and the store's cross-partner reads refuse any object it did not
 * make, so no code path can read another partner's records without a verified token.
 */
import type { purposes } from '../standard/code-lists.js';

/** What a consent token can grant. */
export const consentActions = ['match', 'disclose'] as const;
/** FHIR match grades, best first. */
export const matchGrades = ['certain', 'probable', 'possible'] as const;

export interface ConsentGrant {
  readonly jti: string;
  readonly grantorId: string;
  readonly granteeId: string;
  readonly purpose: (typeof purposes)[number];
  /** Whether the purpose needs each record's own opt-in (purposePolicies). */
  readonly optIn: boolean;
  /** The action this request was verified for. */
  readonly action: (typeof consentActions)[number];
  readonly actions: readonly (typeof consentActions)[number][];
  /** The grantor's datasets it covers; null for all of them. */
  readonly datasets: readonly string[] | null;
  /** Field paths that may be disclosed; empty when `disclose` is not granted. */
  readonly fields: readonly string[];
  readonly minGrade: (typeof matchGrades)[number];
  readonly maxResults: number;
  /** Whether answers may carry numeric scores; false: grades only. */
  readonly scores: boolean;
  readonly expiresAt: Date;
}

const verified = new WeakSet<ConsentGrant>();

/** For verifyConsentToken only. */
export function sealGrant(grant: ConsentGrant): ConsentGrant {
  const sealed = Object.freeze({ ...grant, actions: Object.freeze([...grant.actions]), fields: Object.freeze([...grant.fields]), datasets: grant.datasets && Object.freeze([...grant.datasets]) });
  verified.add(sealed);
  return sealed;
}

/** Throws unless the grant came from verifyConsentToken and permits `action`. */
export function assertVerifiedGrant(grant: ConsentGrant, action: ConsentGrant['action']): void {
  if (!verified.has(grant)) throw new Error('cross-partner read without a verified consent grant');
  if (grant.action !== action) throw new Error(`consent grant verified for ${grant.action}, used for ${action}`);
}
