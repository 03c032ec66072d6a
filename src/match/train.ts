/**
 * Training without labels, as Splink does: u from random pairs (almost all non-matches), m and the
 * prior by expectation-maximisation over the blocked candidate pairs, with u held fixed.
 */
import { comparisons, compareRecords, type Comparable } from './compare.js';
import type { MatchModel } from './model.js';

type Counts = number[][];
const emptyCounts = (): Counts => comparisons.map((c) => c.levels.map(() => 0));

/** Deterministic pseudo-random numbers (mulberry32), so a training run can be repeated exactly. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Level frequencies among random pairs of records: the u probabilities (smoothed). */
export function estimateU(left: Comparable[], right: Comparable[], samples = 200_000, seed = 1): Counts {
  const counts = emptyCounts();
  const next = seededRandom(seed);
  for (let n = 0; n < samples; n += 1) {
    const a = left[Math.floor(next() * left.length)]!;
    const b = right[Math.floor(next() * right.length)]!;
    if (a === b) continue;
    compareRecords(a, b).forEach((level, i) => (counts[i]![level]! += 1));
  }
  return counts;
}

/** Comparison vectors of random pairs (almost all non-matches): what the data looks like by chance. */
export function randomPairVectors(left: Comparable[], right: Comparable[], samples = 5000, seed = 7): Uint8Array[] {
  const vectors: Uint8Array[] = [];
  if (!left.length || !right.length) return vectors;
  const next = seededRandom(seed);
  for (let n = 0; n < samples; n += 1) {
    const a = left[Math.floor(next() * left.length)]!;
    const b = right[Math.floor(next() * right.length)]!;
    if (a !== b) vectors.push(compareRecords(a, b));
  }
  return vectors;
}

function normalise(counts: number[], pseudo: number): number[] {
  // Level 0 (null) carries no weight and is left out of the distribution.
  const total = counts.slice(1).reduce((sum, c) => sum + c + pseudo, 0);
  return counts.map((c, level) => (level === 0 ? 1 : (c + pseudo) / total));
}

export interface TrainingResult {
  model: MatchModel;
  iterations: number;
  pairs: number;
}

/**
 * EM over comparison vectors of blocked pairs. Starts from `start` (its m, or sensible defaults),
 * keeps u from `uCounts`, and stops when the prior moves less than 1e-6.
 */
export function trainModel(
  vectors: Uint8Array[],
  uCounts: Counts,
  start: Pick<MatchModel, 'thresholds' | 'termFrequency'> & Partial<Pick<MatchModel, 'householdGuard'>> & { prior?: number; comparisons?: MatchModel['comparisons'] },
  options: { maxIterations?: number; trainedOn?: Record<string, unknown> } = {},
): TrainingResult {
  // A comparison the training data never fills (no phones in FEBRL or fake_1000) has nothing to
  // learn from: EM would leave it at the uniform start, m = u, weight 0, and the field would never
  // move a score again. It keeps the starting model's m and u instead, and the model says so.
  const observed = comparisons.map((_, i) => uCounts[i]!.slice(1).some((c) => c > 0) || vectors.some((v) => v[i] !== 0));
  const kept = comparisons.filter((comparison, i) => !observed[i] && start.comparisons?.[comparison.name]).map((c) => c.name);
  const u = uCounts.map((counts) => normalise(counts, 1));
  // Start: the strongest agreement is likely among matches, disagreement unlikely.
  let m = comparisons.map((comparison) => {
    const last = comparison.levels.length - 1;
    return normalise(comparison.levels.map((_, level) => (level === 0 ? 0 : level === 1 ? 60 : level === last ? 2 : 8)), 0);
  });
  let prior = start.prior ?? 0.1;
  let iterations = 0;
  for (; iterations < (options.maxIterations ?? 50); iterations += 1) {
    const mCounts = emptyCounts();
    let matches = 0;
    for (const vector of vectors) {
      let odds = prior / (1 - prior);
      for (let i = 0; i < vector.length; i += 1) {
        const level = vector[i]!;
        if (level !== 0) odds *= m[i]![level]! / u[i]![level]!;
      }
      const p = Number.isFinite(odds) ? odds / (1 + odds) : 1;
      matches += p;
      for (let i = 0; i < vector.length; i += 1) mCounts[i]![vector[i]!]! += p;
    }
    const nextPrior = Math.min(Math.max(matches / vectors.length, 1e-6), 1 - 1e-6);
    m = mCounts.map((counts) => normalise(counts, 0.01));
    const moved = Math.abs(nextPrior - prior);
    prior = nextPrior;
    if (moved < 1e-6) break;
  }
  const round = (x: number) => Number(x.toPrecision(6));
  const model: MatchModel = {
    version: 2,
    description: 'Fellegi-Sunter model: u from random pairs, m and prior by EM on blocked pairs (no labels).',
    prior: round(prior),
    comparisons: Object.fromEntries(
      comparisons.map((comparison, i) => [
        comparison.name,
        kept.includes(comparison.name) ? start.comparisons![comparison.name]! : Object.fromEntries(comparison.levels.slice(1).map((label, j) => [label, { m: round(Math.min(Math.max(m[i]![j + 1]!, 1e-6), 1 - 1e-6)), u: round(Math.min(Math.max(u[i]![j + 1]!, 1e-6), 1 - 1e-6)) }])),
      ]),
    ),
    termFrequency: start.termFrequency,
    householdGuard: start.householdGuard ?? true,
    thresholds: start.thresholds,
    ...(options.trainedOn || kept.length ? { trainedOn: { ...options.trainedOn, ...(kept.length ? { notTrained: kept } : {}) } } : {}),
  };
  return { model, iterations, pairs: vectors.length };
}
