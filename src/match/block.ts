/**
 * Batch blocking in memory: the same rule set the store compiles to SQL (src/store/blocking-sql.ts),
 * run over records held by the process, for the offline tools, which then need no database. Each
 * rule is sized, refined while too large and reported, and its recall estimated, as in SQL: a test
 * checks that both give the same pairs and report.
 */
import { createHash } from 'node:crypto';
import type { CustomerRecord } from '../standard/customer.js';
import { isArrayRule, NAME_SIMILARITY, planRules, RECALL_SAMPLE, recallFields, sidesOfKey, type BlockingKey, type BlockingReport, type BlockingRule, type BlockingSettings, type PlannedRule } from './blocking.js';
import { matchKeys, type MatchKeys } from './features.js';
import { PairListBuilder, type PairList } from './pairs.js';

/** A record as blocking sees it: its id and its keys. */
export interface BlockingRecord {
  id: string;
  keys: MatchKeys;
  /** The first address's town, lower-cased (batch linkage only: no index holds it). */
  locality: string | null;
}

export function blockingRecord(record: CustomerRecord): BlockingRecord {
  return { id: record.source.recordId, keys: matchKeys(record), locality: record.addresses?.[0]?.locality?.trim().toLowerCase() || null };
}

const localPart = (address: string) => address.split('@')[0]!;
const swappedYear = (date: string) => `${date.slice(0, 2)}${date[3]}${date[2]}${date.slice(4)}`;

/** Each key's value for a record, as its SQL expression computes it over the stored row (null: the record has none). */
export const keyValue: Record<BlockingKey, (r: Pick<BlockingRecord, 'keys' | 'locality'>) => string | number | null | string[]> = {
  family_phonetic: ({ keys }) => keys.familyPhonetic,
  given_phonetic: ({ keys }) => keys.givenPhonetic,
  family_phonetic_prefix: ({ keys }) => keys.familyPhonetic?.slice(0, 2) ?? null,
  birth_year: ({ keys }) => keys.birthYear,
  birth_date: ({ keys }) => keys.birthDate,
  birth_day: ({ keys }) => keys.birthDate?.slice(5) ?? null,
  birth_date_iso: ({ keys }) => keys.birthDate,
  birth_date_year_swapped: ({ keys }) => (keys.birthDate ? swappedYear(keys.birthDate) : null),
  postcode: ({ keys }) => keys.postcodeKey,
  given_name: ({ keys }) => keys.givenNameKey,
  family_name: ({ keys }) => keys.familyNameKey,
  full_name: ({ keys }) => keys.fullNameKey,
  given_initial: ({ keys }) => keys.givenNameKey?.slice(0, 1) || null,
  family_initial: ({ keys }) => keys.familyNameKey?.slice(0, 1) || null,
  locality: ({ locality }) => locality,
  email_prefix: ({ keys }) => {
    const first = keys.emailKeys[0];
    if (!first) return null;
    const prefix = `${localPart(first).slice(0, 5)}@${first.split('@')[1]?.slice(0, 1) ?? ''}`;
    return prefix === '@' ? null : prefix;
  },
  email: ({ keys }) => keys.emailKeys,
  email_local: ({ keys }) => keys.emailKeys.map(localPart),
  phone: ({ keys }) => keys.phoneKeys,
  identifier: ({ keys }) => keys.identifierKeys,
};

const scalar = (key: BlockingKey, record: BlockingRecord) => keyValue[key](record) as string | number | null;

/** pg_trgm's trigrams of a text: per word (letters and digits), lower-cased, padded with two spaces before and one after. */
function trigrams(text: string): Set<string> {
  const grams = new Set<string>();
  for (const word of text.toLowerCase().split(/[^\p{L}\p{N}]+/u)) {
    if (!word) continue;
    const padded = `  ${word} `;
    for (let i = 0; i + 3 <= padded.length; i += 1) grams.add(padded.slice(i, i + 3));
  }
  return grams;
}

/** pg_trgm's similarity: the trigrams two texts share over those either has. */
export function trigramSimilarity(a: string, b: string): number {
  const x = trigrams(a);
  const y = trigrams(b);
  if (!x.size || !y.size) return 0;
  let shared = 0;
  for (const gram of x) if (y.has(gram)) shared += 1;
  return shared / (x.size + y.size - shared);
}

/** The key a record groups by under a rule's equality keys (one side of each entry), or null when it lacks one. */
function groupKey(rule: Pick<BlockingRule, 'on'>, side: 0 | 1, record: BlockingRecord): string | null {
  let key = '';
  for (const entry of rule.on) {
    const value = scalar(sidesOfKey(entry)[side], record);
    if (value === null || value === undefined) return null;
    key += `${value}\u0001`;
  }
  return key;
}

/** Records' positions by each key they hold. */
function indexBy(records: BlockingRecord[], keysOf: (record: BlockingRecord) => Iterable<string>): Map<string, number[]> {
  const byKey = new Map<string, number[]>();
  records.forEach((record, index) => {
    for (const key of keysOf(record)) {
      const members = byKey.get(key);
      if (members) members.push(index);
      else byKey.set(key, [index]);
    }
  });
  return byKey;
}

/** Records by their group key under a rule (one side of it). */
function groups(rule: Pick<BlockingRule, 'on'>, side: 0 | 1, records: BlockingRecord[]): Map<string, number[]> {
  return indexBy(records, (record) => {
    const key = groupKey(rule, side, record);
    return key === null ? [] : [key];
  });
}

/** The pairs a rule's equality keys bring together, counted as the SQL sizes them. */
function ruleSize(rule: Pick<BlockingRule, 'on'>, left: BlockingRecord[], right: BlockingRecord[], within: boolean): number {
  if (!rule.on.length) return within ? (left.length * left.length - left.length) / 2 : left.length * right.length;
  const l = groups(rule, 0, left);
  const r = within && rule.on.every((entry) => typeof entry === 'string') ? l : groups(rule, 1, right);
  let pairs = 0;
  for (const [key, members] of l) {
    const others = r.get(key);
    if (others) pairs += within ? (members.length * others.length - members.length) / 2 : members.length * others.length;
  }
  return pairs;
}

/** Whether a key has a value: arrays when not empty. */
export const hasValue = (value: unknown) => (Array.isArray(value) ? value.length > 0 : value !== null && value !== undefined);

/** Whether a pair passes a rule's filters: its `similar` name and its `whenMissing` keys. */
function passes(rule: BlockingRule, l: BlockingRecord, r: BlockingRecord): boolean {
  if (rule.similar) {
    const a = scalar(rule.similar, l);
    const b = scalar(rule.similar, r);
    if (typeof a !== 'string' || typeof b !== 'string' || trigramSimilarity(a, b) < NAME_SIMILARITY) return false;
  }
  if (rule.whenMissing?.length) {
    const lacks = (record: BlockingRecord) => !rule.whenMissing!.some((key) => hasValue(keyValue[key](record)));
    if (!lacks(l) && !lacks(r)) return false;
  }
  return true;
}

/** Whether a rule (not an array key's) brings the pair together: its keys agree and its filters pass. */
function covers(rule: BlockingRule, l: BlockingRecord, r: BlockingRecord): boolean {
  for (const entry of rule.on) {
    const [leftKey, rightKey] = sidesOfKey(entry);
    const value = scalar(leftKey, l);
    if (!hasValue(value) || value !== scalar(rightKey, r)) return false;
  }
  return passes(rule, l, r);
}

function shares(rule: BlockingRule, l: BlockingRecord, r: BlockingRecord): boolean {
  const [leftKey, rightKey] = sidesOfKey(rule.on[0]!);
  const values = new Set(keyValue[leftKey](l) as string[]);
  return (keyValue[rightKey](r) as string[]).some((value) => values.has(value));
}

/** A record's place in the store's repeatable sample: the first 32 bits of the md5 of its id. */
const sampleHash = (id: string) => parseInt(createHash('md5').update(id).digest('hex').slice(0, 8), 16);

/**
 * Candidate pairs of two sets of records (the same array twice to deduplicate one) by a rule set,
 * with what blocking did: each rule's pairs and refinements, and the share of pairs agreeing on a
 * recall field that the rules compare. Within one set each pair comes once, the lower id left.
 */
export async function blockRecords(
  left: BlockingRecord[],
  right: BlockingRecord[],
  blocking: BlockingSettings,
  options: { estimateRecall?: boolean } = {},
): Promise<{ pairs: PairList; blocking: BlockingReport }> {
  const within = left === right;
  const budget = Math.max(blocking.minPairs, blocking.pairsPerRecord * (left.length + (within ? 0 : right.length)));
  const { kept, report } = await planRules(blocking, budget, (rules) => rules.map((rule) => ruleSize(rule, left, right, within)));
  const arrayRules = blocking.rules.filter(isArrayRule);
  const seen = new Set<number>();
  const pairs = new PairListBuilder();
  const add = (i: number, j: number) => {
    if (within) {
      if (left[i]!.id === left[j]!.id) return;
      if (left[i]!.id > left[j]!.id) [i, j] = [j, i];
    }
    const code = i * right.length + j;
    if (seen.has(code)) return;
    seen.add(code);
    pairs.add(i, j);
  };
  for (const rule of kept) {
    if (!rule.on.length) {
      for (let i = 0; i < left.length; i += 1) for (let j = within ? i + 1 : 0; j < right.length; j += 1) if (covers(rule, left[i]!, right[j]!)) add(i, j);
      continue;
    }
    // A group's members agree on the rule's keys: only its filters are left to check.
    const byKey = groups(rule, 1, right);
    left.forEach((l, i) => {
      const key = groupKey(rule, 0, l);
      for (const j of (key !== null && byKey.get(key)) || []) if ((!within || i !== j) && passes(rule, l, right[j]!)) add(i, j);
    });
  }
  for (const rule of arrayRules) {
    const [leftKey, rightKey] = sidesOfKey(rule.on[0]!);
    const byValue = indexBy(right, (r) => new Set(keyValue[rightKey](r) as string[]));
    left.forEach((l, i) => {
      for (const value of new Set(keyValue[leftKey](l) as string[])) for (const j of byValue.get(value) ?? []) if (!within || i !== j) add(i, j);
    });
  }
  const recall = options.estimateRecall === false ? [] : estimateRecall(left, right, within, kept, arrayRules);
  const ids = (records: BlockingRecord[]) => records.map((record) => record.id);
  const leftIds = ids(left);
  return { pairs: pairs.build(leftIds, within ? leftIds : ids(right)), blocking: { rules: report, recall } };
}

/** Of the pairs agreeing on each recall field, the share any kept rule (or array key) compares; the left side sampled above RECALL_SAMPLE. */
function estimateRecall(left: BlockingRecord[], right: BlockingRecord[], within: boolean, kept: PlannedRule[], arrayRules: BlockingRule[]): BlockingReport['recall'] {
  const recall: BlockingReport['recall'] = [];
  const hashes = new Map<string, number>();
  const hashOf = (id: string) => {
    let hash = hashes.get(id);
    if (hash === undefined) hashes.set(id, (hash = sampleHash(id)));
    return hash;
  };
  for (const field of recallFields) {
    const rule = { on: [field] };
    const agreeing = ruleSize(rule, left, right, within);
    if (agreeing === 0) continue;
    const limit = Math.min(1, RECALL_SAMPLE / Math.max(agreeing, 1)) * 2 ** 32;
    const byKey = groups(rule, 1, right);
    let sampled = 0;
    let compared = 0;
    for (const l of left) {
      if (hashOf(l.id) >= limit) continue;
      const key = groupKey(rule, 0, l);
      for (const j of (key !== null && byKey.get(key)) || []) {
        const r = right[j]!;
        if (within && !(l.id < r.id)) continue;
        sampled += 1;
        if (kept.some((k) => covers(k, l, r)) || arrayRules.some((a) => shares(a, l, r))) compared += 1;
      }
    }
    recall.push({ field, agreeing: Math.round(agreeing), compared: sampled ? Number((compared / sampled).toFixed(4)) : 1 });
  }
  return recall;
}
