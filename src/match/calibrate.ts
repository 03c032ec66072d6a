/**
 * A model fitted to the data of one linkage run: how likely two of its records are the same (the
 * prior), from the pairs a near-certain rule finds over that rule's recall, as Splink estimates
 * it from deterministic rules; and nothing for a field that barely varies. A shipped prior is
 * right for one size of file only: the chance that two random records match falls as a file grows
 * (7.4e-4 fits about 1,400 records with one duplicate each; the 110,000-record foreigners register
 * has 2.6e-6). u stays the model's: measured on each file's random pairs it ranked worse (best F1
 * on foreigners 0.764 → 0.734, fake_1000 clustered 0.977 → 0.966), as it no longer matched the m
 * it was trained with.
 */
import type { Comparator } from './compare.js';
import { comparatorFor, withoutConstantFields, type MatchModel } from './model.js';

export interface Calibration {
  /** The prior the model came with, and the one this data gave (null: kept, too few pairs agreed on the rule). */
  prior: { model: number; estimated: number | null; rulePairs: number; ruleRecall: number };
  /** Random pairs the fields' presence and variance were measured on. */
  randomPairs: number;
  /** Comparisons whose field barely varies in this data: they weighed nothing. */
  constantFields: string[];
}

/** Fewer pairs than this agreeing on the rule, and the model's prior is kept. */
const MIN_RULE_PAIRS = 5;

/** A name level that all but says "the same name": exact, a nickname, Jaro-Winkler 0.9 and above. */
const strongName = (label: string) => label === 'exact' || label === 'nickname' || /^jaro_winkler_0\.9\d*$/.test(label);

/**
 * The deterministic rule the prior is counted with: the same full birth date, and given and
 * family names the same or nearly. Each entry is a comparison's position and the levels that
 * satisfy it; undefined when the model lacks one of the three.
 */
export function priorRule(comparator: Comparator): { index: number; levels: Set<number> }[] | undefined {
  const rule = (
    [
      ['birth_date', (label: string) => label === 'exact'],
      ['given_name', strongName],
      ['family_name', strongName],
    ] as const
  ).map(([field, strong]) => {
    const index = comparator.comparisons.findIndex((c) => c.field === field);
    const levels = index < 0 ? [] : comparator.comparisons[index]!.levels.flatMap((label, level) => (level > 0 && strong(label) ? [level] : []));
    return { index, levels: new Set(levels) };
  });
  return rule.every((part) => part.index >= 0 && part.levels.size) ? rule : undefined;
}

const satisfies = (rule: NonNullable<ReturnType<typeof priorRule>>, vector: Uint8Array) => rule.every(({ index, levels }) => levels.has(vector[index]!));

/**
 * Fits `model` to a run's data. `counts` holds, per comparison, how many pairs drawn at random
 * reached each level (level 0: the field missing on a side); `candidates` the vector of every
 * candidate pair, read once to count the rule; `comparablePairs` how many pairs the run could
 * form (n(n-1)/2 within one file).
 */
export function calibrate(model: MatchModel, counts: number[][], candidates: Iterable<Uint8Array>, comparablePairs: number): { model: MatchModel; calibration: Calibration } {
  const comparator = comparatorFor(model);
  const randomPairs = counts[0]!.reduce((sum, n) => sum + n, 0);
  const { model: varying, constant } = withoutConstantFields(model, counts);

  // The prior: pairs the rule finds, over the share of true pairs it finds (its levels' m, times
  // how often both records have the fields), over every pair the run could form.
  const rule = priorRule(comparator);
  let rulePairs = 0;
  let ruleRecall = 0;
  let estimated: number | null = null;
  if (rule && randomPairs) {
    for (const vector of candidates) if (satisfies(rule, vector)) rulePairs += 1;
    ruleRecall = rule.reduce((recall, { index, levels }) => {
      const comparison = comparator.comparisons[index]!;
      const m = [...levels].reduce((sum, level) => sum + model.comparisons[comparison.name]![comparison.levels[level]!]!.m, 0);
      const present = 1 - counts[index]![0]! / randomPairs;
      return recall * m * present;
    }, 1);
    if (rulePairs >= MIN_RULE_PAIRS && ruleRecall > 0 && comparablePairs > 0) {
      estimated = Number(Math.min(Math.max(rulePairs / ruleRecall / comparablePairs, 1e-12), 0.5).toPrecision(6));
    }
  }
  return {
    model: { ...varying, prior: estimated ?? model.prior },
    calibration: { prior: { model: model.prior, estimated, rulePairs, ruleRecall: Number(ruleRecall.toFixed(4)) }, randomPairs, constantFields: constant },
  };
}
