/**
 * Duplicates within one input, and the documented rule for merging them:
 * - Rows with the same source id are one customer: they merge into one record. A later row's
 *   non-empty values replace earlier ones (exports list the latest change last); lists (emails,
 *   phones, addresses, identifiers, consents, channels) are united without repeats; `ext` merges key by key.
 * - Rows with different source ids but the same normalised identity (name, birth date and an email
 *   or phone) are flagged, not merged: they are distinct records in the partner's system, and the
 *   exchange must keep addressing each by its id (for updates and erasure). Matching links them.
 */
import type { CustomerRecord } from '../standard/customer.js';
import { nameKey } from '../standard/normalise/names.js';

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function mergeValue(earlier: unknown, later: unknown): unknown {
  if (later === undefined) return earlier;
  if (earlier === undefined) return later;
  if (Array.isArray(earlier) && Array.isArray(later)) {
    const seen = new Set(earlier.map((item) => JSON.stringify(item)));
    return [...earlier, ...later.filter((item) => !seen.has(JSON.stringify(item)))];
  }
  if (isPlainObject(earlier) && isPlainObject(later) && !('amount' in later)) {
    const out: Record<string, unknown> = { ...earlier };
    for (const [key, value] of Object.entries(later)) out[key] = mergeValue(earlier[key], value);
    return out;
  }
  return later;
}

export function mergeRecords(earlier: CustomerRecord, later: CustomerRecord): CustomerRecord {
  return mergeValue(earlier, later) as CustomerRecord;
}

/** The normalised identity of a record, when it has enough to tell one person: name, birth date, and an email or phone. */
export function identityKey(record: CustomerRecord): string | undefined {
  const name = record.name?.full ?? [record.name?.given, record.name?.family].filter(Boolean).join(' ');
  const contact = record.emails?.[0]?.address ?? record.phones?.[0]?.number;
  if (!name || !record.birthDate || !contact) return undefined;
  return `${nameKey(name)}|${record.birthDate}|${contact}`;
}
