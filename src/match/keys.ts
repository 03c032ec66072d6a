/** The comparison forms of a record that candidate retrieval indexes; pure, one place for both upload and query. */
import DoubleMetaphone from 'natural/lib/natural/phonetics/double_metaphone.js';
import type { CustomerRecord } from '../standard/customer.js';
import { isHanName, nameKey } from '../standard/normalise/names.js';

const metaphone = new DoubleMetaphone();

export interface MatchKeys {
  fullNameKey: string | null;
  givenNameKey: string | null;
  familyNameKey: string | null;
  familyPhonetic: string | null;
  birthDate: string | null;
  birthYear: number | null;
  postcodeKey: string | null;
  emailKeys: string[];
  phoneKeys: string[];
  /** `scheme:VALUE` of each identifier. */
  identifierKeys: string[];
  givenPhonetic: string | null;
}

/** Double Metaphone primary code of a Latin name; Chinese names are compared on their characters. */
export function phoneticKey(name: string): string | null {
  const key = nameKey(name);
  if (!key) return null;
  if (isHanName(key)) return key;
  const [primary] = metaphone.process(key.replace(/[^a-z]/g, ''));
  return primary || null;
}

export function matchKeys(record: CustomerRecord): MatchKeys {
  const name = record.name ?? {};
  const full = name.full ?? [name.given, name.middle, name.family].filter(Boolean).join(' ');
  const family = name.family ?? null;
  return {
    fullNameKey: full ? nameKey(full) || null : null,
    givenNameKey: name.given ? nameKey(name.given) || null : null,
    familyNameKey: family ? nameKey(family) || null : null,
    familyPhonetic: family ? phoneticKey(family) : null,
    birthDate: record.birthDate ?? null,
    birthYear: record.birthDate ? Number(record.birthDate.slice(0, 4)) : null,
    postcodeKey: record.addresses?.find((a) => a.postcode)?.postcode?.replace(/\s+/g, '') ?? null,
    emailKeys: [...new Set((record.emails ?? []).map((e) => e.address))],
    phoneKeys: [...new Set((record.phones ?? []).map((p) => p.number))],
    identifierKeys: [...new Set((record.identifiers ?? []).map((i) => `${i.scheme}:${i.value.toUpperCase()}`))],
    givenPhonetic: name.given ? phoneticKey(name.given) : null,
  };
}
