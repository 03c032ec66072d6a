/**
 * The SQL of blocking keys and rules (src/match/blocking.ts): each key as an expression over a
 * customer_records row, the value a query's probe gives it, and which keys an index serves. One
 * rule set compiles to a single query's conditions on `r` and to batch linkage's join of `l` and `r`.
 */
import { arrayKeys, NAME_SIMILARITY, sidesOfKey, type BlockingKey, type BlockingRule } from '../match/blocking.js';
import { hasValue, keyValue } from '../match/block.js';
import type { MatchKeys } from '../match/features.js';

interface KeySql {
  /** Over a customer_records row (unqualified columns); src/match/block.ts computes the same in memory. */
  expression: string;
  /** A cast for the probe's parameter. */
  cast?: string;
}

export const keySql: Record<BlockingKey, KeySql> = {
  family_phonetic: { expression: 'family_phonetic' },
  given_phonetic: { expression: 'given_phonetic' },
  family_phonetic_prefix: { expression: 'left(family_phonetic, 2)' },
  birth_year: { expression: 'birth_year', cast: '::int' },
  birth_date: { expression: 'birth_date', cast: '::date' },
  birth_day: { expression: "to_char(birth_date, 'MM-DD')" },
  birth_date_iso: { expression: "to_char(birth_date, 'YYYY-MM-DD')" },
  // As text: a swapped year may name no real day (1996-02-29, 1969-02-29).
  birth_date_year_swapped: {
    expression: "left(to_char(birth_date, 'YYYY'), 2) || substr(to_char(birth_date, 'YYYY'), 4, 1) || substr(to_char(birth_date, 'YYYY'), 3, 1) || to_char(birth_date, '-MM-DD')",
  },
  postcode: { expression: 'postcode_key' },
  given_name: { expression: 'given_name_key' },
  family_name: { expression: 'family_name_key' },
  full_name: { expression: 'full_name_key' },
  given_initial: { expression: 'left(given_name_key, 1)' },
  family_initial: { expression: 'left(family_name_key, 1)' },
  // No index holds it, so no single query blocks on it: only batch linkage, from the stored record.
  locality: { expression: "nullif(lower(btrim(record #>> '{addresses,0,locality}')), '')" },
  email_prefix: { expression: "nullif(left(split_part(email_keys[1], '@', 1), 5) || '@' || left(split_part(email_keys[1], '@', 2), 1), '@')" },
  email: { expression: 'email_keys', cast: '::text[]' },
  email_local: { expression: "ARRAY(SELECT split_part(e, '@', 1) FROM unnest(email_keys) AS e)", cast: '::text[]' },
  phone: { expression: 'phone_keys', cast: '::text[]' },
  identifier: { expression: 'identifier_keys', cast: '::text[]' },
};

/** A single query's value of a key: what the key is for the probe record (the same function batch blocking in memory uses; no town). */
export const probeValue = (key: BlockingKey, keys: MatchKeys) => keyValue[key]({ keys, locality: null });

/**
 * The indexes of customer_records (migrations 002, 004), by the keys they hold after partner_id:
 * a single query runs a rule only when one of them serves it.
 */
const btreeIndexes: BlockingKey[][] = [['family_phonetic', 'birth_year'], ['birth_date'], ['postcode'], ['family_name'], ['given_phonetic', 'family_phonetic'], ['given_name']];
const ginIndexes: BlockingKey[] = ['email', 'phone', 'identifier'];
const trigramIndexes: BlockingKey[] = ['full_name'];

/** Whether an index serves a rule in a single query: its keys are an index's leading key and others of it, or a trigram name search, or an array key's GIN index. */
export function indexServes(rule: BlockingRule): boolean {
  const stored = rule.on.map((entry) => sidesOfKey(entry)[1]);
  if (!stored.length) return rule.similar !== undefined && trigramIndexes.includes(rule.similar);
  if (stored.length === 1 && arrayKeys.includes(stored[0]!)) return ginIndexes.includes(stored[0]!);
  return btreeIndexes.some((index) => stored.includes(index[0]!) && stored.every((k) => index.includes(k)));
}

/**
 * A single query's condition for one rule on `r`, with its parameters (numbered by `param`), or
 * undefined when the probe lacks a key the rule needs, or has one it applies without.
 */
export function probeCondition(rule: BlockingRule, keys: MatchKeys, param: (value: unknown) => string): string | undefined {
  if (rule.whenMissing?.some((key) => hasValue(probeValue(key, keys)))) return undefined;
  const conditions: string[] = [];
  for (const entry of rule.on) {
    const [probeKey, storedKey] = sidesOfKey(entry);
    const value = probeValue(probeKey, keys);
    if (!hasValue(value)) return undefined;
    const column = `r.${keySql[storedKey].expression}`;
    conditions.push(arrayKeys.includes(storedKey) ? `${column} && ${param(value)}${keySql[storedKey].cast ?? ''}` : `${column} = ${param(value)}${keySql[storedKey].cast ?? ''}`);
  }
  if (rule.similar) {
    const value = probeValue(rule.similar, keys);
    if (!hasValue(value)) return undefined;
    conditions.push(`r.${keySql[rule.similar].expression} % ${param(value)}`);
  }
  return conditions.join(' AND ');
}

/** A key's column in batch linkage's side CTEs (each side selects the keys its rules use, by name). */
export const sideColumn = (side: 'l' | 'r', key: BlockingKey) => `${side}.${key}`;

/** The condition under which a rule brings a pair (l, r) together in batch linkage (not for array keys: those join through unnest). */
export function pairCondition(rule: Pick<BlockingRule, 'on' | 'similar' | 'whenMissing'>): string {
  const parts = rule.on.map((entry) => {
    const [left, right] = sidesOfKey(entry);
    return `${sideColumn('l', left)} = ${sideColumn('r', right)}`;
  });
  // The cheap tests of what is missing before the trigram similarity, which the database computes
  // in the order written: 100k × 100k's similar_full_name computed it for every pair of a postcode
  // (0.4 s) to keep none.
  if (rule.whenMissing?.length) {
    const lacks = (side: 'l' | 'r') => rule.whenMissing!.map((key) => (arrayKeys.includes(key) ? `coalesce(cardinality(${sideColumn(side, key)}), 0) = 0` : `${sideColumn(side, key)} IS NULL`)).join(' AND ');
    parts.push(`((${lacks('l')}) OR (${lacks('r')}))`);
  }
  if (rule.similar) parts.push(`similarity(${sideColumn('l', rule.similar)}, ${sideColumn('r', rule.similar)}) >= ${NAME_SIMILARITY}`);
  return parts.join(' AND ');
}

/** The keys batch linkage's sides must carry for these rules, refinements and recall fields. */
export function keysUsed(rules: BlockingRule[], extra: readonly BlockingKey[]): BlockingKey[] {
  const used = new Set<BlockingKey>(extra);
  for (const rule of rules) {
    for (const entry of rule.on) for (const key of sidesOfKey(entry)) used.add(key);
    if (rule.similar) used.add(rule.similar);
    for (const key of rule.whenMissing ?? []) used.add(key);
  }
  return [...used];
}
