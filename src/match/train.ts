/**
 * Training without labels, as Splink does: u from random pairs (almost all non-matches), m and the
 * prior by expectation-maximisation over the blocked candidate pairs, with u held fixed.
 */
import { defaultBlocking } from './blocking.js';
import { comparatorOf, type Comparator } from './compare.js';
import type { Comparable } from './features.js';
import { comparatorFor, settingsOf, type MatchModel } from './model.js';

type Counts = number[][];
const emptyCounts = (comparator: Comparator): Counts => comparator.comparisons.map((c) => c.levels.map(() => 0));

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
export function estimateU(comparator: Comparator, left: Comparable[], right: Comparable[], samples = 200_000, seed = 1): Counts {
  const counts = emptyCounts(comparator);
  const next = seededRandom(seed);
  for (let n = 0; n < samples; n += 1) {
    const a = left[Math.floor(next() * left.length)]!;
    const b = right[Math.floor(next() * right.length)]!;
    if (a === b) continue;
    comparator.compare(a, b).forEach((level, i) => (counts[i]![level]! += 1));
  }
  return counts;
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

/** A training pass: pairs blocked on some comparisons' fields, which it therefore cannot learn. */
export interface TrainingPass {
  name: string;
  vectors: Uint8Array[];
  /** Comparisons the pass was blocked on: all its pairs agree on them (Splink fixes them in that session). */
  fixed: string[];
}

/** What training starts from: the comparisons (their levels and starting m), the settings it keeps. */
export type TrainingStart = Pick<MatchModel, 'thresholds' | 'termFrequency' | 'comparisons'> & Partial<Pick<MatchModel, 'householdGuard' | 'fields' | 'blocking'>> & { prior?: number };
type Start = TrainingStart;
/** The comparisons training starts from, ready to run. */
export const comparatorOfStart = (start: Start) => comparatorOf(settingsOf(start));

/** Start: the strongest agreement is likely among matches, disagreement unlikely. */
const startingM = (comparator: Comparator) =>
  comparator.comparisons.map((comparison) => {
    const last = comparison.levels.length - 1;
    return normalise(comparison.levels.map((_, level) => (level === 0 ? 0 : level === 1 ? 60 : level === last ? 2 : 8)), 0);
  });

/**
 * EM over comparison vectors: the m of the comparisons `estimate` names and the share of matches,
 * u held fixed; a comparison not estimated neither counts in a pair's odds nor moves. Stops when
 * the share moves less than 1e-6.
 */
function expectationMaximisation(vectors: Uint8Array[], u: number[][], m: number[][], prior: number, estimate: boolean[], maxIterations: number) {
  let iterations = 0;
  for (; iterations < maxIterations; iterations += 1) {
    const mCounts = m.map((row) => row.map(() => 0));
    let matches = 0;
    for (const vector of vectors) {
      let odds = prior / (1 - prior);
      for (let i = 0; i < vector.length; i += 1) {
        const level = vector[i]!;
        if (level !== 0 && estimate[i]) odds *= m[i]![level]! / u[i]![level]!;
      }
      const p = Number.isFinite(odds) ? odds / (1 + odds) : 1;
      matches += p;
      for (let i = 0; i < vector.length; i += 1) mCounts[i]![vector[i]!]! += p;
    }
    const nextPrior = Math.min(Math.max(matches / vectors.length, 1e-6), 1 - 1e-6);
    m = m.map((row, i) => (estimate[i] ? normalise(mCounts[i]!, 0.01) : row));
    const moved = Math.abs(nextPrior - prior);
    prior = nextPrior;
    if (moved < 1e-6) break;
  }
  return { m, prior, iterations };
}

/** The model from its m, u and prior; comparisons in `kept` keep the starting model's levels. */
function modelOf(comparator: Comparator, m: number[][], u: number[][], prior: number, start: Start, kept: string[], trainedOn: Record<string, unknown> | undefined): MatchModel {
  const round = (x: number) => Number(x.toPrecision(6));
  const clamp = (x: number) => round(Math.min(Math.max(x, 1e-6), 1 - 1e-6));
  return {
    version: 3,
    description: 'Fellegi-Sunter model: u from random pairs, m by EM on blocked pairs (no labels).',
    prior: round(prior),
    comparisons: Object.fromEntries(
      comparator.comparisons.map((comparison, i) => [
        comparison.name,
        kept.includes(comparison.name) ? start.comparisons[comparison.name]! : Object.fromEntries(comparison.levels.slice(1).map((label, j) => [label, { m: clamp(m[i]![j + 1]!), u: clamp(u[i]![j + 1]!) }])),
      ]),
    ),
    fields: start.fields ?? {},
    termFrequency: start.termFrequency,
    householdGuard: start.householdGuard ?? true,
    blocking: start.blocking ?? defaultBlocking(),
    thresholds: start.thresholds,
    ...(trainedOn || kept.length ? { trainedOn: { ...trainedOn, ...(kept.length ? { notTrained: kept } : {}) } } : {}),
  };
}

/** Comparisons the training data never fill keep the starting model's levels (EM would leave m = u). */
function unobserved(comparator: Comparator, vectors: Uint8Array[], uCounts: Counts): string[] {
  const observed = comparator.comparisons.map((_, i) => uCounts[i]!.slice(1).some((c) => c > 0) || vectors.some((v) => v[i] !== 0));
  return comparator.comparisons.filter((_, i) => !observed[i]).map((c) => c.name);
}

/**
 * EM over comparison vectors of blocked pairs, every comparison estimated at once. Starts from
 * sensible m, keeps u from `uCounts`.
 */
export function trainModel(vectors: Uint8Array[], uCounts: Counts, start: Start, options: { maxIterations?: number; trainedOn?: Record<string, unknown> } = {}): TrainingResult {
  const comparator = comparatorOfStart(start);
  const kept = unobserved(comparator, vectors, uCounts);
  const u = uCounts.map((counts) => normalise(counts, 1));
  const result = expectationMaximisation(vectors, u, startingM(comparator), start.prior ?? 0.1, comparator.comparisons.map(() => true), options.maxIterations ?? 50);
  return { model: modelOf(comparator, result.m, u, result.prior, start, kept, options.trainedOn), iterations: result.iterations, pairs: vectors.length };
}

/**
 * Training as Splink does it: one EM session per pass, each blocked on some fields and learning
 * the others (pairs blocked on a birth date teach what names say, and pairs blocked on names what
 * a birth date says), so that no field learns from pairs chosen for agreeing on it; a comparison
 * learnt in several passes takes their mean. The share of matches is then found over all
 * candidate pairs with m and u held, and the model is checked for degenerate levels.
 */
export function trainByPasses(passes: TrainingPass[], candidates: Uint8Array[], uCounts: Counts, start: Start, options: { maxIterations?: number; trainedOn?: Record<string, unknown> } = {}): TrainingResult & { passes: { name: string; pairs: number; iterations: number }[] } {
  const comparator = comparatorOfStart(start);
  const comparisons = comparator.comparisons;
  const all = [...candidates, ...passes.flatMap((p) => p.vectors)];
  const kept = unobserved(comparator, all, uCounts);
  const u = uCounts.map((counts) => normalise(counts, 1));
  const learnt: number[][][] = comparisons.map(() => []);
  let m = startingM(comparator);
  const report: { name: string; pairs: number; iterations: number }[] = [];
  for (const pass of passes) {
    if (!pass.vectors.length) continue;
    const estimate = comparisons.map((c) => !pass.fixed.includes(c.field));
    const result = expectationMaximisation(pass.vectors, u, m, start.prior ?? 0.1, estimate, options.maxIterations ?? 50);
    result.m.forEach((row, i) => estimate[i] && learnt[i]!.push(row));
    report.push({ name: pass.name, pairs: pass.vectors.length, iterations: result.iterations });
  }
  m = m.map((row, i) => (learnt[i]!.length ? row.map((_, level) => learnt[i]!.reduce((sum, r) => sum + r[level]!, 0) / learnt[i]!.length) : row));
  // A level no pass ever saw has nothing to learn from (its m is the pseudo-count): it keeps the starting model's.
  const seen = emptyCounts(comparator);
  for (const pass of passes) for (const vector of pass.vectors) vector.forEach((level, i) => !pass.fixed.includes(comparisons[i]!.field) && (seen[i]![level]! += 1));
  m = m.map((row, i) => row.map((value, level) => (level > 0 && seen[i]![level] === 0 ? (start.comparisons[comparisons[i]!.name]?.[comparisons[i]!.levels[level]!]?.m ?? value) : value)));
  // The share of matches among the candidates: EM on the prior alone.
  const { prior } = priorOnly(candidates, u, m);
  return { model: modelOf(comparator, m, u, prior, start, kept, options.trainedOn), iterations: report.reduce((n, p) => n + p.iterations, 0), pairs: all.length, passes: report };
}

/** The share of matches among `vectors` with m and u fixed: EM on the prior alone. */
function priorOnly(vectors: Uint8Array[], u: number[][], m: number[][]): { prior: number } {
  let prior = 0.01;
  const weights = vectors.map((vector) => {
    let ratio = 1;
    for (let i = 0; i < vector.length; i += 1) if (vector[i] !== 0) ratio *= m[i]![vector[i]!]! / u[i]![vector[i]!]!;
    return ratio;
  });
  for (let iteration = 0; iteration < 200; iteration += 1) {
    let matches = 0;
    for (const ratio of weights) {
      const odds = (prior / (1 - prior)) * ratio;
      matches += Number.isFinite(odds) ? odds / (1 + odds) : 1;
    }
    const next = Math.min(Math.max(matches / Math.max(vectors.length, 1), 1e-9), 1 - 1e-6);
    if (Math.abs(next - prior) < 1e-9) return { prior: next };
    prior = next;
  }
  return { prior };
}

/**
 * Levels whose parameters contradict what they mean: a disagreement counted as evidence for a
 * match, or an exact agreement as evidence against. A model with any is degenerate (EM found
 * households or namesakes rather than people) and is refused.
 */
export function degenerateLevels(model: MatchModel): string[] {
  const problems: string[] = [];
  for (const comparison of comparatorFor(model).comparisons) {
    const levels = model.comparisons[comparison.name];
    const notTrained = Array.isArray(model.trainedOn?.notTrained) ? (model.trainedOn.notTrained as string[]) : [];
    if (!levels || notTrained.includes(comparison.name)) continue;
    const weight = (label: string) => Math.log2(levels[label]!.m / levels[label]!.u);
    const last = comparison.levels[comparison.levels.length - 1]!;
    if (last === 'different' && weight(last) > 0) problems.push(`${comparison.name}.${last} weighs +${weight(last).toFixed(2)}: a disagreement would count as evidence for a match`);
    if (comparison.levels[1] === 'exact' && weight('exact') < 0) problems.push(`${comparison.name}.exact weighs ${weight('exact').toFixed(2)}: an exact agreement would count as evidence against`);
  }
  return problems;
}
