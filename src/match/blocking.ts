/**
 * Blocking rules as settings: which pairs are compared at all. A rule brings two records together
 * when they agree on all of its keys (`blockOn('family_phonetic', 'birth_year')`); the rules of a
 * model are alternatives (a pair any rule finds is compared once). A key may be paired with
 * another on the other side (given name against family name: names swapped), a rule may ask
 * trigram similarity on a name (`similar`), and may apply only to records lacking some keys. The
 * store compiles one rule set to SQL for single queries (rules an index serves) and for batch
 * linkage (every rule, refined with `refineWith` keys while too large).
 */
import { z } from 'zod';

/** Keys a rule can block on; the store holds their SQL (src/store/blocking-sql.ts). */
export const blockingKeyNames = [
  'family_phonetic', 'given_phonetic', 'family_phonetic_prefix', 'birth_year', 'birth_date', 'birth_day',
  'birth_date_iso', 'birth_date_year_swapped', 'postcode', 'given_name', 'family_name', 'full_name',
  'given_initial', 'family_initial', 'locality', 'email_prefix', 'email', 'email_local', 'phone', 'identifier',
] as const;
export type BlockingKey = (typeof blockingKeyNames)[number];
/** Keys with several values per record (a pair agrees when any value is shared): a rule of its own. */
export const arrayKeys: readonly BlockingKey[] = ['email', 'email_local', 'phone', 'identifier'];
/** Keys `similar` can take: names, compared by trigram similarity (pg_trgm's default 0.3). */
export const similarKeys: readonly BlockingKey[] = ['given_name', 'family_name', 'full_name'];

/** The left-hand (probe) key of an `on` entry, and the right-hand (stored) one. */
export const sidesOfKey = (entry: BlockingKey | [BlockingKey, BlockingKey]): [BlockingKey, BlockingKey] => (typeof entry === 'string' ? [entry, entry] : entry);

/** Trigram similarity a name must reach: pg_trgm's default threshold for `%`. */
export const NAME_SIMILARITY = 0.3;

/**
 * Fields whose agreement the recall estimate counts: of the pairs that agree on one, how many no
 * rule compares (Splink's check of blocking against deterministic agreement).
 */
export const recallFields: BlockingKey[] = ['full_name', 'birth_date', 'family_name', 'given_name', 'postcode'];
/** Above this many agreeing pairs, the estimate samples the left side (a share of 1 in 20 or better is plenty for a percentage). */
export const RECALL_SAMPLE = 50_000;

/** What batch blocking did, in SQL or in memory. */
export interface BlockingReport {
  /** Each rule as run: the pairs it compared (before its filter), the keys it was refined by, or why it was left out. */
  rules: { name: string; pairs: number; refinedBy?: string[]; leftOut?: true }[];
  /** Per field: the pairs that agree on it, and the share of them the rules compare (sampled above 50,000). */
  recall: { field: string; agreeing: number; compared: number }[];
}

const key = z.enum(blockingKeyNames);
export const blockingRuleSchema = z
  .object({
    name: z.string().regex(/^[a-z][a-z0-9_]*$/, 'lower-case letters, digits and _'),
    /** Keys both records must agree on; `[left, right]` compares one key with another. */
    on: z.array(z.union([key, z.tuple([key, key])])).default([]),
    /** A name both must be similar on (trigram similarity ≥ 0.3). */
    similar: key.refine((k) => similarKeys.includes(k), 'similar takes given_name, family_name or full_name').optional(),
    /** Only for records that lack all these keys (a last resort for name-only records). */
    whenMissing: z.array(key).optional(),
  })
  .strict()
  .superRefine((rule, ctx) => {
    if (!rule.on.length && !rule.similar) ctx.addIssue({ code: 'custom', message: `${rule.name}: a rule needs keys to agree on or a name to be similar on` });
    const keys = rule.on.flatMap((k) => (typeof k === 'string' ? [k] : k));
    if (keys.some((k) => arrayKeys.includes(k)) && (rule.on.length > 1 || typeof rule.on[0] !== 'string' || rule.similar)) {
      ctx.addIssue({ code: 'custom', message: `${rule.name}: ${arrayKeys.join(', ')} each make a rule of their own` });
    }
  });
export type BlockingRule = z.infer<typeof blockingRuleSchema>;

/** A rule on these keys, named after them. */
export function blockOn(...keys: (BlockingKey | [BlockingKey, BlockingKey])[]): BlockingRule {
  return { name: keys.map((k) => (typeof k === 'string' ? k : k.join('_vs_'))).join('_'), on: keys };
}

export const defaultBlockingRules: BlockingRule[] = [
  { ...blockOn('family_phonetic', 'birth_year'), name: 'phonetic_family_birth_year' },
  { name: 'postcode_similar_given', on: ['postcode'], similar: 'given_name' },
  blockOn('birth_date'),
  // The catch-all fuzzy name rule, for records with nothing else: a trigram search over every name
  // is the costliest rule, and with a date, postcode or contact point the other rules find typo'd names.
  { name: 'similar_full_name', on: [], similar: 'full_name', whenMissing: ['birth_date', 'postcode', 'email', 'phone', 'identifier'] },
  { ...blockOn('given_phonetic', 'family_phonetic'), name: 'phonetic_names' },
  { ...blockOn('given_phonetic', 'birth_year'), name: 'phonetic_given_birth_year' },
  { ...blockOn('family_phonetic', 'given_initial'), name: 'phonetic_family_given_initial' },
  { name: 'swapped_names', on: [['family_phonetic', 'given_phonetic'], ['given_phonetic', 'family_phonetic']] },
  { ...blockOn('given_phonetic', 'family_initial'), name: 'phonetic_given_family_initial' },
  // A birth year mistyped, or a missing or mistyped name, is caught by the other keys.
  { ...blockOn('family_phonetic', 'birth_day'), name: 'phonetic_family_birth_day' },
  { ...blockOn('given_phonetic', 'birth_day'), name: 'phonetic_given_birth_day' },
  // Day and month with both initials: a mistyped year and both names mistyped (olena mahdiuk 1993, oleba mahciuk 1939).
  { ...blockOn('birth_day', 'given_initial', 'family_initial'), name: 'birth_day_initials' },
  // The year's last two digits exchanged, day and month intact (1976-12-19, 1967-12-19), with every
  // name mistyped: in the foreigners register 1,828 true pairs no other rule found.
  { name: 'birth_date_year_swapped', on: [['birth_date_year_swapped', 'birth_date_iso']] },
  { ...blockOn('family_phonetic', 'locality'), name: 'phonetic_family_locality' },
  { ...blockOn('given_phonetic', 'locality'), name: 'phonetic_given_locality' },
  // The first five characters of the address and of its domain: an email mistyped further on.
  blockOn('email_prefix'),
  blockOn('email'),
  // The same local part catches a mistyped domain.
  blockOn('email_local'),
  blockOn('phone'),
  blockOn('identifier'),
];

export const blockingSettingsSchema = z
  .object({
    rules: z.array(blockingRuleSchema).min(1),
    /** Keys a rule too large for the data is conjoined with, in this order of preference. */
    refineWith: z.array(key).default(['birth_year', 'given_initial', 'family_initial', 'birth_day', 'postcode', 'locality', 'family_phonetic_prefix']),
    /** A rule may compare at most this many pairs per record linked… */
    pairsPerRecord: z.number().positive().default(5),
    /** …and at least this many, for small data. */
    minPairs: z.number().int().positive().default(200_000),
    /** At most this many candidates per rule for one query (more when the query asks for more results)… */
    perQuery: z.number().int().positive().max(1000).default(10),
    /** …the records whose names are most alike, of at most this many the rule finds. */
    perQueryRanked: z.number().int().positive().max(10_000).default(200),
  })
  .strict()
  .superRefine((settings, ctx) => {
    const names = settings.rules.map((r) => r.name);
    const repeated = names.find((name, i) => names.indexOf(name) !== i);
    if (repeated) ctx.addIssue({ code: 'custom', path: ['rules'], message: `two rules named ${repeated}` });
    if (settings.refineWith.some((k) => arrayKeys.includes(k))) ctx.addIssue({ code: 'custom', path: ['refineWith'], message: 'array keys cannot refine a rule' });
  });
export type BlockingSettings = z.infer<typeof blockingSettingsSchema>;

let parsedDefault: BlockingSettings | undefined;
/** The default blocking settings (parsed once; not to be changed). */
export const defaultBlocking = (): BlockingSettings => (parsedDefault ??= blockingSettingsSchema.parse({ rules: defaultBlockingRules }));

/** A rule as a run plans it: perhaps conjoined with refining keys. */
export type PlannedRule = BlockingRule & { refinedBy?: BlockingKey[] };

export const isArrayRule = (rule: BlockingRule) => rule.on.length === 1 && arrayKeys.includes(sidesOfKey(rule.on[0]!)[1]);

/**
 * The rules a batch run keeps: each within `budget` pairs as it is, or conjoined with the first of
 * the settings' `refineWith` keys that brings it within budget (two of them if one is not enough),
 * never dropped unseen: one still too large is reported left out. `measure` sizes a round of rules
 * at once (in SQL one query a round, in memory by grouping); array-key rules are not planned.
 */
export async function planRules(
  blocking: BlockingSettings,
  budget: number,
  measure: (rules: PlannedRule[]) => Promise<number[]> | number[],
): Promise<{ kept: PlannedRule[]; report: BlockingReport['rules'] }> {
  const kept: PlannedRule[] = [];
  const report: BlockingReport['rules'] = [];
  const keep = ({ rule, pairs }: { rule: PlannedRule; pairs: number }) => {
    kept.push(rule);
    report.push({ name: rule.name, pairs: Math.round(pairs), ...(rule.refinedBy ? { refinedBy: rule.refinedBy } : {}) });
  };
  const pairRules: PlannedRule[] = blocking.rules.filter((rule) => !isArrayRule(rule));
  const sizes = await measure(pairRules);
  let tooLarge: { rule: PlannedRule; pairs: number }[] = [];
  pairRules.forEach((rule, i) => (sizes[i]! <= budget ? keep({ rule, pairs: sizes[i]! }) : tooLarge.push({ rule, pairs: sizes[i]! })));
  for (let depth = 0; depth < 2 && tooLarge.length; depth += 1) {
    // Each rule conjoined with every refinement it lacks. The first in refineWith's order that fits
    // is kept, so they are measured in that order, the next of every rule still unplaced in one
    // round, until one fits: 100k × 100k measured 7 variants instead of 19 (1.3 s of SQL).
    const variants = tooLarge.map(({ rule }) =>
      blocking.refineWith
        .filter((key) => !rule.on.some((entry) => sidesOfKey(entry).includes(key)))
        .map((key): PlannedRule => ({ ...rule, on: [...rule.on, key], refinedBy: [...(rule.refinedBy ?? []), key] })),
    );
    const sized: { rule: PlannedRule; pairs: number }[][] = variants.map(() => []);
    const unplaced = () => variants.map((_, i) => i).filter((i) => sized[i]!.length < variants[i]!.length && !sized[i]!.some((v) => v.pairs <= budget));
    for (let open = unplaced(); open.length; open = unplaced()) {
      const measured = await measure(open.map((i) => variants[i]![sized[i]!.length]!));
      open.forEach((i, at) => sized[i]!.push({ rule: variants[i]![sized[i]!.length]!, pairs: measured[at]! }));
    }
    tooLarge = [];
    for (const list of sized) {
      const fits = list.find((v) => v.pairs <= budget);
      // Otherwise the variant that splits the blocks most is refined again.
      if (fits) keep(fits);
      else if (list.length) tooLarge.push(list.reduce((a, b) => (b.pairs < a.pairs ? b : a)));
    }
  }
  for (const { rule, pairs } of tooLarge) report.push({ name: rule.name, pairs: Math.round(pairs), refinedBy: rule.refinedBy, leftOut: true });
  return { kept, report };
}

/**
 * The rules of several models at once, for a single query that searches datasets scored by
 * different models: every rule any of them has, each once (a rule of the same name but other keys
 * is kept too, under its model's index); the first model's other settings.
 */
export function mergeBlocking(settings: BlockingSettings[]): BlockingSettings {
  const rules = new Map<string, BlockingRule>();
  settings.forEach((blocking, model) => {
    for (const rule of blocking.rules) {
      const same = rules.get(rule.name);
      if (!same) rules.set(rule.name, rule);
      else if (JSON.stringify(same) !== JSON.stringify(rule)) rules.set(`${rule.name}_${model}`, { ...rule, name: `${rule.name}_${model}` });
    }
  });
  const most = (pick: (blocking: BlockingSettings) => number) => Math.max(...settings.map(pick));
  return { ...settings[0]!, rules: [...rules.values()], perQuery: most((b) => b.perQuery), perQueryRanked: most((b) => b.perQueryRanked) };
}
