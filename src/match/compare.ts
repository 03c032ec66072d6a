/**
 * Comparisons, as in Splink: each compares one aspect of two records and answers a level, from
 * "null" (nothing to compare) through the strongest agreement to "different". Pure functions over
 * prepared records; string metrics from natural (Jaro-Winkler, Damerau-Levenshtein), phonetic keys
 * by Double Metaphone, Chinese names on their characters and their pinyin.
 */
import JaroWinklerDistance from 'natural/lib/natural/distance/jaro-winkler_distance.js';
import { DamerauLevenshteinDistance } from 'natural/lib/natural/distance/levenshtein_distance.js';
import { pinyin } from 'pinyin-pro';
import type { CustomerRecord } from '../standard/customer.js';
import { isHanName, nameKey } from '../standard/normalise/names.js';
import { phoneticKey } from './keys.js';
import { areNicknames } from './nicknames.js';

/** A record in the forms comparisons need, computed once per record. */
export interface Comparable {
  id: string;
  given: string | null;
  family: string | null;
  givenPhonetic: string | null;
  familyPhonetic: string | null;
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

/** A Han name by its pinyin syllables; a Latin name by its Double Metaphone code (memoised: names repeat). */
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
  const name = record.name ?? {};
  const fold = (value: string | undefined) => (value ? nameKey(value) || null : null);
  let given = fold(name.given);
  let family = fold(name.family);
  if (!given && !family && name.full) {
    const parts = nameKey(name.full).split(' ');
    family = parts.length > 1 ? parts.pop()! : null;
    given = parts.join(' ') || null;
  }
  const address = record.addresses?.[0];
  return {
    id: record.source.recordId,
    given,
    family,
    givenPhonetic: soundOf(given),
    familyPhonetic: soundOf(family),
    birthDate: record.birthDate ?? null,
    gender: record.gender === 'female' || record.gender === 'male' ? record.gender : null,
    emails: [...new Set((record.emails ?? []).map((e) => e.address.toLowerCase()))],
    phones: [...new Set((record.phones ?? []).map((p) => p.number))],
    postcode: address?.postcode?.replace(/\s+/g, '').toUpperCase() ?? record.addresses?.find((a) => a.postcode)?.postcode?.replace(/\s+/g, '') ?? null,
    street: new Set((address?.lines ?? []).join(' ').toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(Boolean)),
    locality: fold(address?.locality),
    region: address?.region?.toLowerCase() ?? null,
    identifiers: new Map((record.identifiers ?? []).map((i) => [i.scheme, i.value.toUpperCase()])),
  };
}

export const jaroWinkler = (a: string, b: string): number => JaroWinklerDistance(a, b);

const asciiCounts = new Int32Array(128);
/**
 * Jaro-Winkler where it can reach `floor`, else 0 without computing it: with at most
 * `c` characters in common (as multisets), Jaro is at most (c/|a| + c/|b| + 1)/3 and Winkler's
 * prefix bonus (4 characters, factor 0.1) lifts it to at most 0.6·Jaro + 0.4. The bound costs one
 * pass over both strings, the metric a quadratic window scan; long, mostly different strings such
 * as two people's email addresses are ruled out by the bound alone.
 */
export function jaroWinklerAbove(a: string, b: string, floor: number): number {
  let common = 0;
  let otherA = 0;
  let otherB = 0;
  for (let i = 0; i < a.length; i += 1) {
    const code = a.charCodeAt(i);
    if (code < 128) asciiCounts[code]! += 1;
    else otherA += 1;
  }
  for (let i = 0; i < b.length; i += 1) {
    const code = b.charCodeAt(i);
    if (code >= 128) otherB += 1;
    else if (asciiCounts[code]! > 0) {
      asciiCounts[code]! -= 1;
      common += 1;
    }
  }
  for (let i = 0; i < a.length; i += 1) {
    const code = a.charCodeAt(i);
    if (code < 128) asciiCounts[code] = 0;
  }
  // Characters outside ASCII are not counted apart: assume they all match (still a bound).
  common += Math.min(otherA, otherB);
  if (0.2 * (common / a.length + common / b.length + 1) + 0.4 < floor) return 0;
  return jaroWinkler(a, b);
}


/** At most one insertion, deletion, substitution or adjacent transposition apart. */
export function oneEditApart(a: string, b: string): boolean {
  if (a.length === b.length) {
    // Same length: one substitution, or one adjacent transposition; decided without a matrix.
    let first = -1;
    let differences = 0;
    for (let i = 0; i < a.length; i += 1) {
      if (a[i] === b[i]) continue;
      differences += 1;
      if (differences === 1) first = i;
      else if (differences > 2) return false;
    }
    if (differences <= 1) return true;
    return a[first] === b[first + 1] && a[first + 1] === b[first] && differences === 2;
  }
  if (Math.abs(a.length - b.length) > 1) return false;
  return DamerauLevenshteinDistance(a, b) <= 1;
}

export interface Comparison {
  name: string;
  /** Level labels; index 0 is always "null" (no information, weight 0). */
  levels: readonly string[];
  /** The level index two records reach. */
  compare(a: Comparable, b: Comparable): number;
  /** The value whose frequency adjusts an exact match (term-frequency adjustment), if any. */
  tfValue?(record: Comparable): string | null;
}

function nameComparison(name: 'given_name' | 'family_name', own: 'given' | 'family', other: 'given' | 'family', phonetic: 'givenPhonetic' | 'familyPhonetic'): Comparison {
  const levels = ['null', 'exact', ...(own === 'given' ? ['nickname'] : []), 'jaro_winkler_0.92', 'phonetic', 'jaro_winkler_0.80', 'swapped', 'initial', 'different'] as const;
  // Level numbers looked up once: compare() runs for every candidate pair.
  const [nickname, jw92, sound, jw80, swapped, initial, different] = (['nickname', 'jaro_winkler_0.92', 'phonetic', 'jaro_winkler_0.80', 'swapped', 'initial', 'different'] as const).map((label) =>
    levels.indexOf(label),
  );
  return {
    name,
    levels,
    compare(a, b) {
      const x = a[own];
      const y = b[own];
      if (!x || !y) return 0;
      if (x === y) return 1;
      if (own === 'given' && areNicknames(x, y)) return nickname!;
      const similarity = jaroWinklerAbove(x, y, 0.8);
      if (similarity >= 0.92) return jw92!;
      if (a[phonetic] && a[phonetic] === b[phonetic]) return sound!;
      if (similarity >= 0.8) return jw80!;
      if ((a[other] && a[other] === y) || (b[other] && b[other] === x)) return swapped!;
      if ((x.length === 1 || y.length === 1) && x[0] === y[0]) return initial!;
      return different!;
    },
    tfValue: (record) => record[own],
  };
}

/**
 * Birth dates, from the strongest agreement down. A year mistyped with day and month intact is a
 * registry's commonest error (RLdata's duplicates carry it): far likelier among matches than the
 * 1 in 365 of chance. Years a little apart are weaker evidence against than dates far apart.
 */
const birthDate: Comparison = {
  name: 'birth_date',
  levels: ['null', 'exact', 'day_month_swapped', 'one_typo', 'same_day_month', 'same_year_month', 'same_year', 'years_apart_2', 'different'],
  compare(a, b) {
    const x = a.birthDate;
    const y = b.birthDate;
    if (!x || !y) return 0;
    if (x === y) return 1;
    const [xYear, xMonth, xDay] = [x.slice(0, 4), x.slice(5, 7), x.slice(8, 10)];
    const [yYear, yMonth, yDay] = [y.slice(0, 4), y.slice(5, 7), y.slice(8, 10)];
    if (xYear === yYear && xMonth === yDay && xDay === yMonth) return 2;
    if (oneEditApart(x.replaceAll('-', ''), y.replaceAll('-', ''))) return 3;
    if (xMonth === yMonth && xDay === yDay) return 4;
    if (xYear === yYear) return xMonth === yMonth ? 5 : 6;
    return Math.abs(Number(xYear) - Number(yYear)) <= 2 ? 7 : 8;
  },
};

/** Gender: agreement is weak evidence (half of everyone agrees by chance), disagreement strong against. */
const gender: Comparison = {
  name: 'gender',
  levels: ['null', 'exact', 'different'],
  compare: (a, b) => (!a.gender || !b.gender ? 0 : a.gender === b.gender ? 1 : 2),
};

const email: Comparison = {
  name: 'email',
  levels: ['null', 'exact', 'jaro_winkler_0.90', 'same_local_part', 'same_domain', 'different'],
  compare(a, b) {
    if (!a.emails.length || !b.emails.length) return 0;
    let best = 5;
    for (const x of a.emails) {
      for (const y of b.emails) {
        if (x === y) return 1;
        if (jaroWinklerAbove(x, y, 0.9) >= 0.9) {
          best = 2;
          continue;
        }
        const xAt = x.lastIndexOf('@');
        const yAt = y.lastIndexOf('@');
        if (xAt < 0 || yAt < 0) continue;
        if (xAt === yAt && x.startsWith(y.slice(0, yAt + 1))) best = Math.min(best, 3);
        else if (x.endsWith(y.slice(yAt))) best = Math.min(best, 4);
      }
    }
    return best;
  },
};

const phone: Comparison = {
  name: 'phone',
  levels: ['null', 'exact', 'same_last_7_digits', 'different'],
  compare(a, b) {
    if (!a.phones.length || !b.phones.length) return 0;
    let best = 3;
    for (const x of a.phones) {
      for (const y of b.phones) {
        if (x === y) return 1;
        if (x.slice(-7) === y.slice(-7)) best = 2;
      }
    }
    return best;
  },
};

const postcode: Comparison = {
  name: 'postcode',
  levels: ['null', 'exact', 'one_typo', 'different'],
  compare(a, b) {
    if (!a.postcode || !b.postcode) return 0;
    if (a.postcode === b.postcode) return 1;
    return oneEditApart(a.postcode, b.postcode) ? 2 : 3;
  },
};

const street: Comparison = {
  name: 'street',
  levels: ['null', 'same_tokens', 'overlap_0.5', 'some_overlap', 'different'],
  compare(a, b) {
    if (!a.street.size || !b.street.size) return 0;
    let shared = 0;
    for (const token of a.street) if (b.street.has(token)) shared += 1;
    const jaccard = shared / (a.street.size + b.street.size - shared);
    if (jaccard === 1) return 1;
    if (jaccard >= 0.5) return 2;
    return shared > 0 ? 3 : 4;
  },
};

const locality: Comparison = {
  name: 'locality',
  levels: ['null', 'exact', 'jaro_winkler_0.88', 'different'],
  compare(a, b) {
    if (!a.locality || !b.locality) return 0;
    if (a.locality === b.locality) return 1;
    return jaroWinklerAbove(a.locality, b.locality, 0.88) >= 0.88 ? 2 : 3;
  },
};

const region: Comparison = {
  name: 'region',
  levels: ['null', 'exact', 'different'],
  compare: (a, b) => (!a.region || !b.region ? 0 : a.region === b.region ? 1 : 2),
};

const identifier: Comparison = {
  name: 'identifier',
  levels: ['null', 'exact', 'one_typo', 'different'],
  compare(a, b) {
    let best = 0;
    for (const [scheme, x] of a.identifiers) {
      const y = b.identifiers.get(scheme);
      if (y === undefined) continue;
      if (x === y) return 1;
      best = oneEditApart(x, y) ? 2 : best === 2 ? 2 : 3;
    }
    return best;
  },
};

export const comparisons: readonly Comparison[] = [
  nameComparison('given_name', 'given', 'family', 'givenPhonetic'),
  nameComparison('family_name', 'family', 'given', 'familyPhonetic'),
  birthDate,
  gender,
  email,
  phone,
  postcode,
  street,
  locality,
  region,
  identifier,
];

/** The level each comparison reaches for a pair: the comparison vector (into `vector` when given, to spare an allocation per pair). */
export function compareRecords(a: Comparable, b: Comparable, vector = new Uint8Array(comparisons.length)): Uint8Array {
  for (let i = 0; i < comparisons.length; i += 1) vector[i] = comparisons[i]!.compare(a, b);
  return vector;
}
