/**
 * The library comparisons are built from. A model names, per comparison, the field it compares
 * and its levels in order, strongest agreement first; each level's name says what it tests
 * (`exact`, `jaro_winkler_0.92`, `phonetic`, `years_apart_2`, `same_last_7_digits`, …), and the
 * first level a pair passes is the one it reaches. The last level is always `different`; level 0
 * (`null`, nothing to compare) is implicit. Pure functions over prepared records.
 */
import type { Comparable } from './features.js';
import { jaroWinklerAbove, oneEditApart } from './metrics.js';
import { areNicknames } from './nicknames.js';
import { isKeyboardTypo } from './spellings.js';

type FieldKind = 'name' | 'date' | 'text' | 'texts' | 'tokens' | 'keyed';

interface FieldSpec {
  kind: FieldKind;
  /** One value (name, date, text). */
  value?: (record: Comparable) => string | null;
  /** Several values (emails, phones): a pair reaches the best level of any two. */
  values?: (record: Comparable) => readonly string[];
  /** Values by scheme (identifiers): only the same scheme's values are compared. */
  entries?: (record: Comparable) => ReadonlyMap<string, string>;
  tokens?: (record: Comparable) => ReadonlySet<string>;
  phonetic?: (record: Comparable) => string | null;
  /** The name in one spelling of its transliterations, computed once a record. */
  spelling?: (record: Comparable) => string | null;
  /** The record's other name, for `swapped`. */
  other?: (record: Comparable) => string | null;
}

/** The fields a comparison may compare: the forms of src/match/features.ts. */
export const comparableFields = {
  given_name: { kind: 'name', value: (r) => r.given, phonetic: (r) => r.givenPhonetic, spelling: (r) => r.givenSpelling, other: (r) => r.family },
  family_name: { kind: 'name', value: (r) => r.family, phonetic: (r) => r.familyPhonetic, spelling: (r) => r.familySpelling, other: (r) => r.given },
  birth_date: { kind: 'date', value: (r) => r.birthDate },
  gender: { kind: 'text', value: (r) => r.gender },
  email: { kind: 'texts', values: (r) => r.emails },
  phone: { kind: 'texts', values: (r) => r.phones },
  postcode: { kind: 'text', value: (r) => r.postcode },
  street: { kind: 'tokens', tokens: (r) => r.street },
  locality: { kind: 'text', value: (r) => r.locality },
  region: { kind: 'text', value: (r) => r.region },
  identifier: { kind: 'keyed', entries: (r) => r.identifiers },
} satisfies Record<string, FieldSpec>;
export type ComparableField = keyof typeof comparableFields;
export const comparableFieldNames = Object.keys(comparableFields) as ComparableField[];

/** What one level test sees: the two values, their records, and the pair's string similarity (computed once, on first use). */
interface PairContext {
  x: string;
  y: string;
  a: Comparable;
  b: Comparable;
  similarity: number;
}
type LevelTest = (pair: PairContext) => boolean;

/** Whether `length` characters of x from `xFrom` equal those of y from `yFrom` (no substring made: a pair's levels run millions of times). */
function sameChars(x: string, xFrom: number, y: string, yFrom: number, length: number): boolean {
  for (let i = 0; i < length; i += 1) if (x.charCodeAt(xFrom + i) !== y.charCodeAt(yFrom + i)) return false;
  return true;
}

// Dates are the standard's YYYY-MM-DD, YYYY-MM or YYYY (src/standard/customer.ts), their parts
// compared in place: slicing out years, months and days made the birth date the comparison that
// most fed the garbage collector (100k × 100k: 115 of the comparing's 180 young collections).
const full = (date: string) => date.length === 10;
const sameYear = (x: string, y: string) => sameChars(x, 0, y, 0, 4);
const sameYearMonth = (x: string, y: string) => x.length >= 7 && y.length >= 7 && sameChars(x, 0, y, 0, 7);
/** Full dates only. */
const sameDayMonth = (x: string, y: string) => sameChars(x, 5, y, 5, 5);
const yearOf = (date: string) => {
  let year = 0;
  for (let i = 0; i < 4; i += 1) {
    const digit = date.charCodeAt(i) - 48;
    if (!(digit >= 0 && digit <= 9)) return Number.NaN;
    year = year * 10 + digit;
  }
  return year;
};

/** Two years (of full dates) that differ only by two neighbouring digits exchanged. */
function yearDigitsSwapped(x: string, y: string): boolean {
  let i = 0;
  while (i < 4 && x.charCodeAt(i) === y.charCodeAt(i)) i += 1;
  return i < 3 && x.charCodeAt(i) === y.charCodeAt(i + 1) && x.charCodeAt(i + 1) === y.charCodeAt(i) && sameChars(x, i + 2, y, i + 2, 2 - i);
}

/** Where a full date's eight digits are (YYYY-MM-DD). */
const DATE_DIGITS = [0, 1, 2, 3, 5, 6, 8, 9];
/** Full dates whose digits are one substitution or one exchange of neighbours apart (oneEditApart of the dates without their dashes). */
function digitsOneEditApart(x: string, y: string): boolean {
  let first = -1;
  let differences = 0;
  for (let k = 0; k < 8; k += 1) {
    if (x.charCodeAt(DATE_DIGITS[k]!) === y.charCodeAt(DATE_DIGITS[k]!)) continue;
    differences += 1;
    if (differences === 1) first = k;
    else if (differences > 2) return false;
  }
  if (differences <= 1) return true;
  const [a, b] = [DATE_DIGITS[first]!, DATE_DIGITS[first + 1]!];
  return x.charCodeAt(a) === y.charCodeAt(b) && x.charCodeAt(b) === y.charCodeAt(a);
}

/**
 * Each level by its name: the kinds of field it applies to and its test. A parameter is the
 * name's number (`jaro_winkler_0.92` → 0.92).
 */
const library: { pattern: RegExp; kinds: FieldKind[]; test: (parameter: number, field: FieldSpec) => LevelTest; describe: string }[] = [
  { pattern: /^exact$/, kinds: ['name', 'date', 'text', 'texts', 'keyed'], test: (_, field) => (field.kind === 'date' ? ({ x, y }) => x === y && full(x) : ({ x, y }) => x === y), describe: 'the same value (a date: the same full date)' },
  { pattern: /^nickname$/, kinds: ['name'], test: () => ({ x, y }) => areNicknames(x, y), describe: 'one name a nickname of the other (bill, william)' },
  { pattern: /^transliterated$/, kinds: ['name'], test: (_, field) => ({ a, b }) => field.spelling!(a) === field.spelling!(b), describe: 'the same name in another transliteration or with a letter doubled (oleksii, oleksiy; yehor, yegor; natalija, nataliia; bery, berry)' },
  { pattern: /^keyboard_typo$/, kinds: ['name'], test: () => ({ x, y }) => isKeyboardTypo(x, y), describe: 'one letter struck for its neighbour on the keyboard, digits included (rashad, rasgad; natig, nat8g)' },
  {
    pattern: /^jaro_winkler_(0\.\d+)$/,
    kinds: ['name', 'text', 'texts'],
    test: (threshold) => (pair) => pair.similarity >= threshold,
    describe: 'Jaro-Winkler similarity at least the number',
  },
  { pattern: /^phonetic$/, kinds: ['name'], test: (_, field) => ({ a, b }) => { const sound = field.phonetic!(a); return sound !== null && sound === field.phonetic!(b); }, describe: 'the same Double Metaphone code (Han names: the same pinyin)' },
  {
    pattern: /^swapped$/,
    kinds: ['name'],
    test: (_, field) => ({ x, y, a, b }) => { const otherA = field.other!(a); const otherB = field.other!(b); return (otherA !== null && otherA === y) || (otherB !== null && otherB === x); },
    describe: 'given and family name exchanged',
  },
  { pattern: /^initial$/, kinds: ['name'], test: () => ({ x, y }) => (x.length === 1 || y.length === 1) && x[0] === y[0], describe: 'one side an initial, the other a name it begins' },
  {
    pattern: /^one_typo$/,
    kinds: ['date', 'text', 'texts', 'keyed'],
    test: (_, field) => (field.kind === 'date' ? ({ x, y }) => full(x) && full(y) && digitsOneEditApart(x, y) : ({ x, y }) => oneEditApart(x, y)),
    describe: 'one insertion, deletion, substitution or transposition apart (dates: full dates only)',
  },
  {
    pattern: /^year_digits_swapped$/,
    kinds: ['date'],
    test: () => ({ x, y }) => full(x) && full(y) && sameDayMonth(x, y) && yearDigitsSwapped(x, y),
    describe: 'day and month equal, two neighbouring digits of the year exchanged (1976, 1967)',
  },
  { pattern: /^day_month_swapped$/, kinds: ['date'], test: () => ({ x, y }) => full(x) && full(y) && sameYear(x, y) && sameChars(x, 5, y, 8, 2) && sameChars(x, 8, y, 5, 2), describe: 'the same year, day and month exchanged' },
  { pattern: /^same_day_month$/, kinds: ['date'], test: () => ({ x, y }) => full(x) && full(y) && sameDayMonth(x, y), describe: 'day and month equal, the year mistyped' },
  { pattern: /^same_year_month$/, kinds: ['date'], test: () => ({ x, y }) => full(x) && full(y) && sameYearMonth(x, y), describe: 'full dates in the same year and month' },
  { pattern: /^same_year_month_partial$/, kinds: ['date'], test: () => ({ x, y }) => !(full(x) && full(y)) && sameYearMonth(x, y), describe: 'a year-month date agreeing with the other on year and month' },
  { pattern: /^same_year$/, kinds: ['date'], test: () => ({ x, y }) => full(x) && full(y) && sameYear(x, y), describe: 'full dates in the same year' },
  { pattern: /^same_year_partial$/, kinds: ['date'], test: () => ({ x, y }) => !(full(x) && full(y)) && sameYear(x, y), describe: 'a partial date agreeing with the other on the year' },
  { pattern: /^years_apart_(\d+)$/, kinds: ['date'], test: (years) => ({ x, y }) => Math.abs(yearOf(x) - yearOf(y)) <= years, describe: 'years at most the number apart' },
  { pattern: /^same_last_(\d+)_digits$/, kinds: ['text', 'texts'], test: (digits) => ({ x, y }) => x.length >= digits && x.slice(-digits) === y.slice(-digits), describe: 'the same last digits' },
  {
    pattern: /^same_local_part$/,
    kinds: ['texts'],
    test: () => ({ x, y }) => { const at = y.lastIndexOf('@'); return at >= 0 && x.lastIndexOf('@') === at && sameChars(x, 0, y, 0, at + 1); },
    describe: 'emails with the same part before @',
  },
  { pattern: /^same_domain$/, kinds: ['texts'], test: () => ({ x, y }) => { const at = y.lastIndexOf('@'); return at >= 0 && x.includes('@') && x.length >= y.length - at && sameChars(x, x.length - (y.length - at), y, at, y.length - at); }, describe: 'emails at the same domain' },
  { pattern: /^different$/, kinds: ['name', 'date', 'text', 'texts', 'tokens', 'keyed'], test: () => () => true, describe: 'none of the above' },
];

/** Token-set levels: on the share of tokens in common (Jaccard). */
const tokenLevels: { pattern: RegExp; test: (parameter: number) => (jaccard: number, shared: number) => boolean }[] = [
  { pattern: /^same_tokens$/, test: () => (jaccard) => jaccard === 1 },
  { pattern: /^overlap_(0\.\d+)$/, test: (threshold) => (jaccard) => jaccard >= threshold },
  { pattern: /^some_overlap$/, test: () => (_, shared) => shared > 0 },
  { pattern: /^different$/, test: () => () => true },
];

export class LevelError extends Error {}

/** A comparison ready to run: its levels (index 0 is `null`) and the level two records reach. */
export interface Comparison {
  name: string;
  field: ComparableField;
  levels: readonly string[];
  compare(a: Comparable, b: Comparable): number;
  /** The value whose frequency adjusts an exact match (term-frequency adjustment), for name and date fields. */
  tfValue?(record: Comparable): string | null;
}

/** The comparison named `name` over `field` with these levels (`null` first is implicit); throws LevelError on a level the library lacks or the field cannot take. */
export function buildComparison(name: string, field: ComparableField, labels: readonly string[]): Comparison {
  const spec: FieldSpec = comparableFields[field];
  if (!spec) throw new LevelError(`${name}: no field ${field} (fields: ${comparableFieldNames.join(', ')})`);
  if (labels[labels.length - 1] !== 'different') throw new LevelError(`${name}: the last level must be "different"`);
  const levels = ['null', ...labels] as const;
  if (spec.kind === 'tokens') {
    const tests = labels.map((label) => {
      for (const entry of tokenLevels) {
        const matched = entry.pattern.exec(label);
        if (matched) return entry.test(Number(matched[1]));
      }
      throw new LevelError(`${name}: ${field} has no level ${label} (token levels: same_tokens, overlap_<share>, some_overlap, different)`);
    });
    return {
      name,
      field,
      levels,
      compare(a, b) {
        const x = spec.tokens!(a);
        const y = spec.tokens!(b);
        if (!x.size || !y.size) return 0;
        let shared = 0;
        for (const token of x) if (y.has(token)) shared += 1;
        const jaccard = shared / (x.size + y.size - shared);
        for (let i = 0; i < tests.length; i += 1) if (tests[i]!(jaccard, shared)) return i + 1;
        return labels.length;
      },
    };
  }
  const tests = labels.map((label) => {
    for (const entry of library) {
      const matched = entry.pattern.exec(label);
      if (!matched) continue;
      if (!entry.kinds.includes(spec.kind)) throw new LevelError(`${name}: level ${label} does not apply to ${field}`);
      return entry.test(Number(matched[1]), spec);
    }
    throw new LevelError(`${name}: no level ${label} in the library`);
  });
  // The similarity is computed once per pair of values, and only up to the lowest threshold any level asks.
  const floors = labels.map((label) => /^jaro_winkler_(0\.\d+)$/.exec(label)?.[1]).filter(Boolean).map(Number);
  const floor = floors.length ? Math.min(...floors) : 1;
  const context: PairContext = { x: '', y: '', a: undefined as unknown as Comparable, b: undefined as unknown as Comparable, similarity: 0 };
  /** The level of two values; 1-based. */
  const levelOf = (x: string, y: string, a: Comparable, b: Comparable): number => {
    if (x === y && labels[0] === 'exact' && (spec.kind !== 'date' || full(x))) return 1;
    context.x = x;
    context.y = y;
    context.a = a;
    context.b = b;
    context.similarity = floors.length ? jaroWinklerAbove(x, y, floor) : 0;
    for (let i = 0; i < tests.length; i += 1) if (tests[i]!(context)) return i + 1;
    return labels.length;
  };
  let compare: Comparison['compare'];
  if (spec.kind === 'texts') {
    compare = (a, b) => {
      const xs = spec.values!(a);
      const ys = spec.values!(b);
      if (!xs.length || !ys.length) return 0;
      let best = labels.length;
      for (const x of xs) for (const y of ys) if ((best = Math.min(best, levelOf(x, y, a, b))) === 1) return 1;
      return best;
    };
  } else if (spec.kind === 'keyed') {
    compare = (a, b) => {
      let best = 0;
      for (const [scheme, x] of spec.entries!(a)) {
        const y = spec.entries!(b).get(scheme);
        if (y === undefined) continue;
        const level = levelOf(x, y, a, b);
        if (level === 1) return 1;
        best = best === 0 ? level : Math.min(best, level);
      }
      return best;
    };
  } else {
    compare = (a, b) => {
      const x = spec.value!(a);
      const y = spec.value!(b);
      return !x || !y ? 0 : levelOf(x, y, a, b);
    };
  }
  return { name, field, levels, compare, ...(spec.kind === 'name' || spec.kind === 'date' ? { tfValue: spec.value! } : {}) };
}
