/**
 * The Fellegi-Sunter model: per comparison level an m probability (the level among true matches)
 * and a u probability (among non-matches). A pair's match weight is the prior's log-odds plus
 * log2(m/u) over its levels; its probability follows. Exact name matches are adjusted by how common
 * the name is (term frequency), so a shared rare surname counts more than a shared common one.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { matchGrades } from '../core/grant.js';
import { blockingSettingsSchema, defaultBlocking } from './blocking.js';
import { comparatorOf, type Comparator } from './compare.js';
import type { Comparable } from './features.js';
import { comparableFieldNames, LevelError, type ComparableField } from './levels.js';

const probability = z.number().gt(0).lt(1);

/** The levels of the comparisons models of versions 1 and 2 made, in their fixed order. */
const fixedLevels: Record<string, string[]> = {
  given_name: ['exact', 'nickname', 'jaro_winkler_0.92', 'phonetic', 'jaro_winkler_0.80', 'swapped', 'initial', 'different'],
  family_name: ['exact', 'jaro_winkler_0.92', 'phonetic', 'jaro_winkler_0.80', 'swapped', 'initial', 'different'],
  birth_date: ['exact', 'day_month_swapped', 'one_typo', 'same_day_month', 'same_year_month', 'same_year_month_partial', 'same_year', 'same_year_partial', 'years_apart_2', 'different'],
  gender: ['exact', 'different'],
  email: ['exact', 'jaro_winkler_0.90', 'same_local_part', 'same_domain', 'different'],
  phone: ['exact', 'same_last_7_digits', 'different'],
  postcode: ['exact', 'one_typo', 'different'],
  street: ['same_tokens', 'overlap_0.5', 'some_overlap', 'different'],
  locality: ['exact', 'jaro_winkler_0.88', 'different'],
  region: ['exact', 'different'],
  identifier: ['exact', 'one_typo', 'different'],
};
/**
 * Levels an older model lacks, with the weight they start at: those added in version 2 weigh
 * nothing until trained; partial birth dates (version 3) as a year or year-month agreement
 * deserves, for a level only the few records with a partial date reach (m and u both scaled by
 * that share, 1 %).
 */
const addedLevels: Record<string, Record<string, { m: number; u: number }>> = {
  birth_date: {
    same_day_month: { m: 0.01, u: 0.01 },
    same_year_month: { m: 0.01, u: 0.01 },
    years_apart_2: { m: 0.01, u: 0.01 },
    same_year_month_partial: { m: 0.0095, u: 0.0000139 },
    same_year_partial: { m: 0.0095, u: 0.000167 },
  },
  gender: { exact: { m: 0.01, u: 0.01 }, different: { m: 0.01, u: 0.01 } },
};

/** A model of version 1 or 2 (fixed comparisons), read as version 3: levels in their fixed order, the ones it lacks added, the default blocking rules. */
function upgrade(value: unknown): unknown {
  const version = (value as { version?: unknown } | null)?.version;
  if (typeof value !== 'object' || value === null || (version !== 1 && version !== 2)) return value;
  const model = structuredClone(value) as { version: number; comparisons?: Record<string, Record<string, unknown>>; blocking?: unknown };
  model.version = 3;
  const comparisons: Record<string, Record<string, unknown>> = {};
  for (const [name, labels] of Object.entries(fixedLevels)) {
    const old = model.comparisons?.[name] ?? {};
    const levels: Record<string, unknown> = {};
    for (const label of labels) {
      const level = old[label] ?? addedLevels[name]?.[label];
      if (level) levels[label] = level;
    }
    comparisons[name] = levels;
  }
  model.comparisons = comparisons;
  return model;
}

const levelsSchema = z.record(z.string(), z.object({ m: probability, u: probability }).strict());

export const matchModelSchema = z
  .object({
    version: z.literal(3),
    description: z.string().optional(),
    /** Probability that two random records are a match (λ); scores start from its log-odds. */
    prior: probability,
    /**
     * Per comparison, its levels in the order they are tested (names from the level library,
     * src/match/levels.ts), each with m and u. A comparison compares the field of its name unless
     * `fields` says another.
     */
    comparisons: z.record(z.string().regex(/^[a-z][a-z0-9_]*$/), levelsSchema),
    fields: z.record(z.string(), z.enum(comparableFieldNames as [ComparableField, ...ComparableField[]])).default({}),
    /** Comparisons whose exact level is adjusted by term frequency. */
    termFrequency: z.array(z.string()).default(['given_name', 'family_name']),
    /**
     * Household guard: two records on the same family name and address (or phone) but with another
     * given name or birth date are household members, not one person; their shared address and
     * phone then add nothing.
     */
    householdGuard: z.boolean().default(true),
    blocking: blockingSettingsSchema.default(defaultBlocking),
    /** Lowest probability of each grade (FHIR match grades). */
    thresholds: z.object({ certain: probability, probable: probability, possible: probability }).strict(),
    trainedOn: z.record(z.string(), z.unknown()).optional(),
  })
  .strict()
  .superRefine((model, ctx) => {
    for (const name of Object.keys(model.comparisons)) {
      const field = model.fields[name] ?? name;
      if (!comparableFieldNames.includes(field as ComparableField)) {
        ctx.addIssue({ code: 'custom', path: ['fields', name], message: `${name} is not a field: name one in fields (${comparableFieldNames.join(', ')})` });
      }
    }
    for (const name of Object.keys(model.fields)) if (!model.comparisons[name]) ctx.addIssue({ code: 'custom', path: ['fields', name], message: 'no comparison of that name' });
    for (const name of model.termFrequency) if (!model.comparisons[name]) ctx.addIssue({ code: 'custom', path: ['termFrequency'], message: `no comparison ${name}` });
    try {
      comparatorOf(settingsOf(model));
    } catch (error) {
      if (!(error instanceof LevelError)) throw error;
      ctx.addIssue({ code: 'custom', path: ['comparisons'], message: error.message });
    }
    if (!(model.thresholds.certain >= model.thresholds.probable && model.thresholds.probable >= model.thresholds.possible)) {
      ctx.addIssue({ code: 'custom', path: ['thresholds'], message: 'certain ≥ probable ≥ possible' });
    }
  });
export type MatchModel = z.infer<typeof matchModelSchema>;
export type MatchGrade = (typeof matchGrades)[number];

export class ModelError extends Error {}

/** Grade thresholds a new model starts with. */
export const defaultThresholds = { certain: 0.99, probable: 0.9, possible: 0.5 };

export function parseModel(value: unknown, source = 'the model'): MatchModel {
  const parsed = matchModelSchema.safeParse(upgrade(value));
  if (!parsed.success) {
    throw new ModelError(`${source} is not a match model: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}

export function loadModel(file: string): MatchModel {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new ModelError(`cannot read the model file ${file}`);
  }
  try {
    return parseModel(JSON.parse(text), file);
  } catch (error) {
    if (error instanceof ModelError) throw error;
    throw new ModelError(`${file} is not JSON`);
  }
}

let shipped: MatchModel | undefined;
/** The model that ships with the exchange (src/match/default-model.json, from `cx model train`). */
export function defaultModel(): MatchModel {
  shipped ??= loadModel(new URL('./default-model.json', import.meta.url).pathname);
  return shipped;
}

/** How often each value occurs, as a share of records: for term-frequency adjustment. */
export type TermFrequencies = (comparison: string, value: string) => number | undefined;

export interface FieldExplanation {
  comparison: string;
  level: string;
  /** log2(m/u) this level added to the match weight. */
  weight: number;
}

export interface Score {
  matchWeight: number;
  probability: number;
  grade: MatchGrade | null;
  explanation: FieldExplanation[];
}

const log2 = Math.log2;

/** A model's comparisons as settings: name, field and levels in order. */
export function settingsOf(model: Pick<MatchModel, 'comparisons'> & { fields?: MatchModel['fields'] }) {
  return Object.entries(model.comparisons).map(([name, levels]) => ({ name, field: (model.fields?.[name] ?? name) as ComparableField, levels: Object.keys(levels) }));
}

/** What a model needs at scoring time, computed once per model: its comparator, the bits of each level, the household guard's positions. */
interface Compiled {
  comparator: Comparator;
  weights: number[][];
  household: ReturnType<typeof householdOf>;
  scratch: Uint8Array;
}
const compiled = new WeakMap<MatchModel, Compiled>();

function compile(model: MatchModel): Compiled {
  let entry = compiled.get(model);
  if (!entry) {
    const comparator = comparatorOf(settingsOf(model));
    const weights = comparator.comparisons.map((comparison) =>
      comparison.levels.map((label, index) => {
        if (index === 0) return 0;
        const { m, u } = model.comparisons[comparison.name]![label]!;
        return log2(m / u);
      }),
    );
    entry = { comparator, weights, household: householdOf(comparator), scratch: new Uint8Array(comparator.comparisons.length) };
    compiled.set(model, entry);
  }
  return entry;
}

/** The comparator of a model (compiled once per model object). */
export const comparatorFor = (model: MatchModel): Comparator => compile(model).comparator;

/** Grades by strength: a lower rank is a stronger grade. */
export const gradeRank: Record<MatchGrade, number> = { certain: 0, probable: 1, possible: 2 };

export function gradeOf(model: MatchModel, probability: number): MatchGrade | null {
  if (probability >= model.thresholds.certain) return 'certain';
  if (probability >= model.thresholds.probable) return 'probable';
  if (probability >= model.thresholds.possible) return 'possible';
  return null;
}

/**
 * The household guard's positions in a model's vectors: by the fields compared, so that it holds
 * for any comparison names; undefined when the model lacks a family name, a given name or a birth
 * date comparison, or anything a household shares.
 */
function householdOf(comparator: Comparator) {
  const on = (field: string) => comparator.comparisons.findIndex((c) => c.field === field);
  const level = (index: number, label: string) => (index < 0 ? -1 : comparator.comparisons[index]!.levels.indexOf(label));
  const [family, given, birthDate] = [on('family_name'), on('given_name'), on('birth_date')];
  const shared = (
    [
      [on('postcode'), 'exact'],
      [on('street'), 'same_tokens'],
      [on('street'), 'overlap_0.5'],
      [on('phone'), 'exact'],
    ] as const
  )
    .map(([index, label]) => [index, level(index, label)] as const)
    .filter(([, l]) => l > 0);
  if (family < 0 || given < 0 || birthDate < 0 || !shared.length) return undefined;
  return {
    family,
    familyExact: level(family, 'exact'),
    given,
    givenDifferent: level(given, 'different'),
    birthDate,
    /** Birth-date levels that say "another person": a year or more apart with day and month too. */
    birthOther: ['same_year', 'years_apart_2', 'different'].map((label) => level(birthDate, label)).filter((l) => l > 0),
    shared,
    /** Whose agreement the guard sets to nothing. */
    address: new Set(comparator.comparisons.flatMap((c, i) => (['postcode', 'street', 'locality', 'region', 'phone'].includes(c.field) ? [i] : []))),
  };
}

/** Same family name and address (or phone), another given name or birth date: a household member. */
function householdMember(household: NonNullable<Compiled['household']>, vector: Uint8Array): boolean {
  if (vector[household.family] !== household.familyExact) return false;
  if (!household.shared.some(([i, label]) => vector[i] === label)) return false;
  return vector[household.given] === household.givenDifferent || household.birthOther.includes(vector[household.birthDate]!);
}

/**
 * A comparison vector's match weight (log2 of the odds), each comparison's weight pushed to
 * `explanation` when given. Batch linkage weighs millions of vectors and scores only those that
 * reach its threshold, so this allocates nothing.
 */
export function matchWeightOf(model: MatchModel, vector: Uint8Array, tf?: TermFrequencies, a?: Comparable, explanation?: FieldExplanation[]): number {
  const { comparator, weights, household } = compile(model);
  const comparisons = comparator.comparisons;
  let matchWeight = log2(model.prior / (1 - model.prior));
  const frequencies = tf && a ? tf : undefined;
  const guarded = model.householdGuard && household !== undefined && householdMember(household, vector);
  for (let i = 0; i < comparisons.length; i += 1) {
    const comparison = comparisons[i]!;
    const level = vector[i]!;
    let weight = weights[i]![level]!;
    if (guarded && weight > 0 && household!.address.has(i)) weight = 0;
    // Term frequency: an exact match on a value shared by a share f of records is as likely by chance as f.
    if (level === 1 && frequencies && comparison.tfValue && comparison.levels[1] === 'exact' && model.termFrequency.includes(comparison.name)) {
      const value = comparison.tfValue(a!);
      const frequency = value ? frequencies(comparison.field, value) : undefined;
      if (frequency !== undefined) {
        const { m, u } = model.comparisons[comparison.name]!.exact!;
        weight = log2(m / Math.min(Math.max(frequency, u / 20), u * 20));
      }
    }
    matchWeight += weight;
    if (explanation && level !== 0) explanation.push({ comparison: comparison.name, level: comparison.levels[level]!, weight: Math.round(weight * 100) / 100 });
  }
  return matchWeight;
}

/** The probability of a match at a match weight. */
export const probabilityOf = (matchWeight: number) => 1 / (1 + 2 ** -matchWeight);

export function scoreVector(model: MatchModel, vector: Uint8Array, options: { tf?: TermFrequencies; a?: Comparable; explain?: boolean } = {}): Score {
  const explanation: FieldExplanation[] = [];
  const matchWeight = matchWeightOf(model, vector, options.tf, options.a, options.explain ? explanation : undefined);
  const probability = probabilityOf(matchWeight);
  return { matchWeight: Math.round(matchWeight * 100) / 100, probability, grade: gradeOf(model, probability), explanation };
}

export function scorePair(model: MatchModel, a: Comparable, b: Comparable, options: { tf?: TermFrequencies; explain?: boolean } = {}): Score {
  // One vector per model, reused by every call: scoreVector keeps nothing of it.
  const { comparator, scratch } = compile(model);
  return scoreVector(model, comparator.compare(a, b, scratch), { tf: options.tf, explain: options.explain, a });
}

/**
 * The model for one linkage's data: a comparison whose field barely varies there (a region that
 * is the same for everyone, a country) says nothing of who is who, so all its levels weigh
 * nothing. Measured on random pairs (each level's count, level 0 the pairs missing the field):
 * among those where the field is present on both sides, it agrees exactly in at least `share`.
 */
export function withoutConstantFields(model: MatchModel, randomCounts: number[][], share = 0.98): { model: MatchModel; constant: string[] } {
  const constant = comparatorFor(model)
    .comparisons.filter((_, i) => {
      const present = randomCounts[i]!.slice(1).reduce((sum, n) => sum + n, 0);
      return present >= 100 && randomCounts[i]![1]! / present >= share;
    })
    .map((comparison) => comparison.name);
  if (!constant.length) return { model, constant };
  const weightless = Object.fromEntries(constant.map((name) => [name, Object.fromEntries(Object.keys(model.comparisons[name]!).map((label) => [label, { m: 0.5, u: 0.5 }]))]));
  return { model: { ...model, comparisons: { ...model.comparisons, ...weightless } }, constant };
}
