/**
 * Comparisons, as in Splink: each compares one field of two records and answers a level, from
 * "null" (nothing to compare) through the strongest agreement to "different". A model says which
 * comparisons it makes, on which fields, with which levels of the library (src/match/levels.ts);
 * this compiles them once per model into the comparison vector of a pair.
 */
import type { Comparable } from './features.js';
import { buildComparison, type ComparableField, type Comparison } from './levels.js';

export type { Comparison } from './levels.js';

export interface ComparisonSetting {
  name: string;
  field: ComparableField;
  /** Level names in order, strongest agreement first, `different` last. */
  levels: readonly string[];
}

/** A model's comparisons ready to run, in the order of its comparison vectors. */
export interface Comparator {
  comparisons: readonly Comparison[];
  /** The level each comparison reaches for a pair (into `vector` when given, to spare an allocation per pair). */
  compare(a: Comparable, b: Comparable, vector?: Uint8Array): Uint8Array;
  /** The levels into `vectors` from index `at` (a batch's flat vectors, without a view made per pair). */
  compareAt(a: Comparable, b: Comparable, vectors: Uint8Array, at: number): void;
  /** The index of a comparison by name, or -1. */
  indexOf(name: string): number;
}

export function comparatorOf(settings: readonly ComparisonSetting[]): Comparator {
  const comparisons = settings.map((setting) => buildComparison(setting.name, setting.field, setting.levels));
  const count = comparisons.length;
  const compareAt: Comparator['compareAt'] = (a, b, vectors, at) => {
    for (let i = 0; i < count; i += 1) vectors[at + i] = comparisons[i]!.compare(a, b);
  };
  return {
    comparisons,
    compareAt,
    // Callers take it apart from the comparator (const compare = comparator.compare), so no `this`.
    compare(a, b, vector = new Uint8Array(count)) {
      compareAt(a, b, vector, 0);
      return vector;
    },
    indexOf: (name) => comparisons.findIndex((c) => c.name === name),
  };
}
