/**
 * The one feature extractor: every form of a record that matching uses, for the store's index
 * columns (`matchKeys`, computed at upload and for a query's probe) and for the comparisons
 * (`prepare`, computed per record scored). Both derive from the same folded names, dates and
 * contact points here, so that what blocking finds and what scoring compares cannot drift apart.
 */
import { doubleMetaphone } from 'double-metaphone';
import { pinyin } from 'pinyin-pro';
import type { CustomerRecord } from '../standard/customer.js';
import { isHanName, nameKey } from '../standard/normalise/names.js';
import { transliterationKey } from './spellings.js';

/** Double Metaphone primary code of a Latin name; Chinese names are indexed on their characters. */
export function phoneticKey(name: string): string | null {
  const key = nameKey(name);
  if (!key) return null;
  if (isHanName(key)) return key;
  const [primary] = doubleMetaphone(key.replace(/[^a-z]/g, ''));
  return primary || null;
}

/** A record's names folded for comparison: given and family, or split from the full name when neither is given. */
function foldedNames(record: CustomerRecord): { given: string | null; family: string | null } {
  const name = record.name ?? {};
  const fold = (value: string | undefined) => (value ? nameKey(value) || null : null);
  const given = fold(name.given);
  const family = fold(name.family);
  if (given || family || !name.full) return { given, family };
  const parts = nameKey(name.full).split(' ');
  return { family: parts.length > 1 ? parts.pop()! : null, given: parts.join(' ') || null };
}

const postcodeOf = (record: CustomerRecord) => record.addresses?.find((a) => a.postcode)?.postcode?.replace(/\s+/g, '') ?? null;
/** A birth date as the standard keeps it: YYYY-MM-DD, or partial (YYYY-MM, YYYY) when only that is known. */
const isFullDate = (date: string | undefined) => date?.length === 10;

/**
 * The version of what `matchKeys` computes. Raise it, with a migration that sets
 * customer_records.keys_version's default to it, when a key changes: stored rows are then rekeyed
 * at start (2: Double Metaphone as Philips defined it, which keeps an s between vowels).
 */
export const MATCH_KEYS_VERSION = 2;

export interface MatchKeys {
  fullNameKey: string | null;
  givenNameKey: string | null;
  familyNameKey: string | null;
  familyPhonetic: string | null;
  /** Full dates only (the column is a date); a partial one keeps its year. */
  birthDate: string | null;
  birthYear: number | null;
  postcodeKey: string | null;
  emailKeys: string[];
  phoneKeys: string[];
  /** `scheme:VALUE` of each identifier. */
  identifierKeys: string[];
  givenPhonetic: string | null;
}

/** The forms the store indexes; pure, one place for both upload and query. */
export function matchKeys(record: CustomerRecord): MatchKeys {
  const name = record.name ?? {};
  const full = name.full ?? [name.given, name.middle, name.family].filter(Boolean).join(' ');
  const family = name.family ?? null;
  return {
    fullNameKey: full ? nameKey(full) || null : null,
    givenNameKey: name.given ? nameKey(name.given) || null : null,
    familyNameKey: family ? nameKey(family) || null : null,
    familyPhonetic: family ? phoneticKey(family) : null,
    birthDate: isFullDate(record.birthDate) ? record.birthDate! : null,
    birthYear: record.birthDate ? Number(record.birthDate.slice(0, 4)) : null,
    postcodeKey: postcodeOf(record),
    emailKeys: [...new Set((record.emails ?? []).map((e) => e.address))],
    phoneKeys: [...new Set((record.phones ?? []).map((p) => p.number))],
    identifierKeys: [...new Set((record.identifiers ?? []).map((i) => `${i.scheme}:${i.value.toUpperCase()}`))],
    givenPhonetic: name.given ? phoneticKey(name.given) : null,
  };
}

/** A record in the forms comparisons need, computed once per record. */
export interface Comparable {
  id: string;
  given: string | null;
  family: string | null;
  givenPhonetic: string | null;
  familyPhonetic: string | null;
  /** The names in one spelling of their transliterations (src/match/spellings.ts), for the `transliterated` level. */
  givenSpelling: string | null;
  familySpelling: string | null;
  /** YYYY-MM-DD, or a partial YYYY-MM or YYYY. */
  birthDate: string | null;
  /** female or male; anything else compares as unknown. */
  gender: 'female' | 'male' | null;
  emails: string[];
  phones: string[];
  postcode: string | null;
  street: Set<string>;
  locality: string | null;
  region: string | null;
  identifiers: Map<string, string>;
}

/** A Han name by its pinyin syllables (another character of the same sound is a likely variant); a Latin name by its Double Metaphone code (memoised: names repeat). */
const sounds = new Map<string, string | null>();
function soundOf(name: string | null): string | null {
  if (!name) return null;
  let sound = sounds.get(name);
  if (sound === undefined) {
    sound = isHanName(name) ? pinyin(name, { toneType: 'none', type: 'array' }).join('') : phoneticKey(name);
    if (sounds.size > 100_000) sounds.clear();
    sounds.set(name, sound);
  }
  return sound;
}

export function prepare(record: CustomerRecord): Comparable {
  const { given, family } = foldedNames(record);
  const address = record.addresses?.[0];
  const locality = address?.locality ? nameKey(address.locality) || null : null;
  return {
    id: record.source.recordId,
    given,
    family,
    givenPhonetic: soundOf(given),
    familyPhonetic: soundOf(family),
    givenSpelling: given && transliterationKey(given),
    familySpelling: family && transliterationKey(family),
    birthDate: record.birthDate ?? null,
    gender: record.gender === 'female' || record.gender === 'male' ? record.gender : null,
    emails: [...new Set((record.emails ?? []).map((e) => e.address.toLowerCase()))],
    phones: [...new Set((record.phones ?? []).map((p) => p.number))],
    postcode: (address?.postcode?.replace(/\s+/g, '') ?? postcodeOf(record))?.toUpperCase() ?? null,
    street: new Set((address?.lines ?? []).join(' ').toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(Boolean)),
    locality,
    region: address?.region?.toLowerCase() ?? null,
    identifiers: new Map((record.identifiers ?? []).map((i) => [i.scheme, i.value.toUpperCase()])),
  };
}
