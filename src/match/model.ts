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

export const matchModelSchema = z
  .object({
    version: z.literal(1),
    description: z.string().optional(),
    /** Probability that two random records are a match (λ); scores start from its log-odds. */
    prior: probability,
    comparisons: z.record(z.string(), z.record(z.string(), z.object({ m: probability, u: probability }).strict())),
    /** Comparisons whose exact level is adjusted by term frequency. */
    termFrequency: z.array(z.string()).default(['given_name', 'family_name']),
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
  const parsed = matchModelSchema.safeParse(value);
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

export function scoreVector(model: MatchModel, vector: Uint8Array, options: { tf?: TermFrequencies; a?: Comparable; explain?: boolean } = {}): Score {
  let table = tables.get(model);
  if (!table) tables.set(model, (table = weightTable(model)));
  let matchWeight = log2(model.prior / (1 - model.prior));
  const explanation: FieldExplanation[] = [];
  const tf = options.tf && options.a ? options.tf : undefined;
  for (let i = 0; i < comparisons.length; i += 1) {
    const comparison = comparisons[i]!;
    const level = vector[i]!;
    let weight = table[i]![level]!;
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
