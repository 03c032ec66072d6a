/**
 * The Fellegi-Sunter model: per comparison level an m probability (the level among true matches)
 * and a u probability (among non-matches). A pair's match weight is the prior's log-odds plus
 * log2(m/u) over its levels; its probability follows. Exact name matches are adjusted by how common
 * the name is (term frequency), so a shared rare surname counts more than a shared common one.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { matchGrades } from '../core/grant.js';
import { comparisons, compareRecords, type Comparable } from './compare.js';

const probability = z.number().gt(0).lt(1);

/** Levels a model of version 1 does not have: they weigh nothing until it is trained again. */
const addedInVersion2: Record<string, string[]> = {
  birth_date: ['same_day_month', 'same_year_month', 'years_apart_2'],
  gender: ['exact', 'different'],
};

/** A version-1 model, read as version 2: the levels it lacks get m = u (no evidence either way). */
function upgrade(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || (value as { version?: unknown }).version !== 1) return value;
  const model = structuredClone(value) as { version: number; comparisons?: Record<string, Record<string, unknown>> };
  model.version = 2;
  for (const [name, labels] of Object.entries(addedInVersion2)) {
    const levels = (model.comparisons ??= {})[name] ?? {};
    for (const label of labels) levels[label] ??= { m: 0.01, u: 0.01 };
    model.comparisons[name] = levels;
  }
  return model;
}

export const matchModelSchema = z
  .object({
    version: z.literal(2),
    description: z.string().optional(),
    /** Probability that two random records are a match (λ); scores start from its log-odds. */
    prior: probability,
    comparisons: z.record(z.string(), z.record(z.string(), z.object({ m: probability, u: probability }).strict())),
    /** Comparisons whose exact level is adjusted by term frequency. */
    termFrequency: z.array(z.string()).default(['given_name', 'family_name']),
    /**
     * Household guard: two records on the same family name and address (or phone) but with another
     * given name or birth date are household members, not one person; their shared address and
     * phone then add nothing.
     */
    householdGuard: z.boolean().default(true),
    /** Lowest probability of each grade (FHIR match grades). */
    thresholds: z.object({ certain: probability, probable: probability, possible: probability }).strict(),
    trainedOn: z.record(z.string(), z.unknown()).optional(),
  })
  .strict()
  .superRefine((model, ctx) => {
    for (const comparison of comparisons) {
      const levels = model.comparisons[comparison.name];
      for (const label of comparison.levels.slice(1)) {
        if (!levels?.[label]) ctx.addIssue({ code: 'custom', path: ['comparisons', comparison.name, label], message: 'missing level' });
      }
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

/** The bits of evidence of each comparison level, computed once per model. */
function weightTable(model: MatchModel): number[][] {
  return comparisons.map((comparison) =>
    comparison.levels.map((label, index) => {
      if (index === 0) return 0;
      const { m, u } = model.comparisons[comparison.name]![label]!;
      return log2(m / u);
    }),
  );
}
const tables = new WeakMap<MatchModel, number[][]>();

/** Grades by strength: a lower rank is a stronger grade. */
export const gradeRank: Record<MatchGrade, number> = { certain: 0, probable: 1, possible: 2 };

export function gradeOf(model: MatchModel, probability: number): MatchGrade | null {
  if (probability >= model.thresholds.certain) return 'certain';
  if (probability >= model.thresholds.probable) return 'probable';
  if (probability >= model.thresholds.possible) return 'possible';
  return null;
}

const at = (name: string) => comparisons.findIndex((c) => c.name === name);
const levelOf = (comparison: string, label: string) => comparisons[at(comparison)]!.levels.indexOf(label);
const household = {
  family: at('family_name'),
  familyExact: levelOf('family_name', 'exact'),
  given: at('given_name'),
  givenDifferent: levelOf('given_name', 'different'),
  birthDate: at('birth_date'),
  /** Birth-date levels that say "another person": a year or more apart with day and month too. */
  birthOther: ['same_year', 'years_apart_2', 'different'].map((label) => levelOf('birth_date', label)),
  /** What a household shares, with the level that says so. */
  shared: [
    [at('postcode'), levelOf('postcode', 'exact')],
    [at('street'), levelOf('street', 'same_tokens')],
    [at('street'), levelOf('street', 'overlap_0.5')],
    [at('phone'), levelOf('phone', 'exact')],
  ] as const,
  /** Whose agreement the guard sets to nothing. */
  address: new Set(['postcode', 'street', 'locality', 'region', 'phone'].map(at)),
};

/** Same family name and address (or phone), another given name or birth date: a household member. */
function householdMember(vector: Uint8Array): boolean {
  if (vector[household.family] !== household.familyExact) return false;
  if (!household.shared.some(([i, label]) => vector[i] === label)) return false;
  return vector[household.given] === household.givenDifferent || household.birthOther.includes(vector[household.birthDate]!);
}

export function scoreVector(model: MatchModel, vector: Uint8Array, options: { tf?: TermFrequencies; a?: Comparable; explain?: boolean } = {}): Score {
  let table = tables.get(model);
  if (!table) tables.set(model, (table = weightTable(model)));
  let matchWeight = log2(model.prior / (1 - model.prior));
  const explanation: FieldExplanation[] = [];
  const tf = options.tf && options.a ? options.tf : undefined;
  const guarded = model.householdGuard && householdMember(vector);
  for (let i = 0; i < comparisons.length; i += 1) {
    const comparison = comparisons[i]!;
    const level = vector[i]!;
    let weight = table[i]![level]!;
    if (guarded && weight > 0 && household.address.has(i)) weight = 0;
    // Term frequency: an exact match on a value shared by a share f of records is as likely by chance as f.
    if (level === 1 && tf && comparison.tfValue && model.termFrequency.includes(comparison.name)) {
      const value = comparison.tfValue(options.a!);
      const frequency = value ? tf(comparison.name, value) : undefined;
      if (frequency !== undefined) {
        const { m, u } = model.comparisons[comparison.name]!.exact!;
        weight = log2(m / Math.min(Math.max(frequency, u / 20), u * 20));
      }
    }
    matchWeight += weight;
    if (options.explain && level !== 0) explanation.push({ comparison: comparison.name, level: comparison.levels[level]!, weight: Math.round(weight * 100) / 100 });
  }
  const probability = 1 / (1 + 2 ** -matchWeight);
  return { matchWeight: Math.round(matchWeight * 100) / 100, probability, grade: gradeOf(model, probability), explanation };
}

/** One vector reused by every scorePair call: scoreVector keeps nothing of it. */
const scratch = new Uint8Array(comparisons.length);

export function scorePair(model: MatchModel, a: Comparable, b: Comparable, options: { tf?: TermFrequencies; explain?: boolean } = {}): Score {
  return scoreVector(model, compareRecords(a, b, scratch), { tf: options.tf, explain: options.explain, a });
}

/**
 * The model for one linkage's data: a comparison whose field barely varies there (a region that
 * is the same for everyone, a country) says nothing of who is who, so all its levels weigh
 * nothing. Measured on random pairs: among those where the field is present on both sides, it
 * agrees exactly in at least `share` of them.
 */
export function withoutConstantFields(model: MatchModel, randomPairs: Uint8Array[], share = 0.98): { model: MatchModel; constant: string[] } {
  const constant = comparisons
    .filter((comparison, i) => {
      let present = 0;
      let exact = 0;
      for (const vector of randomPairs) {
        if (vector[i] === 0) continue;
        present += 1;
        if (vector[i] === 1) exact += 1;
      }
      return present >= 100 && exact / present >= share && comparison.levels[1] !== undefined;
    })
    .map((comparison) => comparison.name);
  if (!constant.length) return { model, constant };
  const weightless = Object.fromEntries(constant.map((name) => [name, Object.fromEntries(Object.keys(model.comparisons[name]!).map((label) => [label, { m: 0.5, u: 0.5 }]))]));
  return { model: { ...model, comparisons: { ...model.comparisons, ...weightless } }, constant };
}
