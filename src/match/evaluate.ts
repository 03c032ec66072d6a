/** Precision, recall and F1 of found pairs against true pairs, and the precision-recall curve. */
import { parse } from 'csv-parse/sync';

export interface Evaluation {
  found: number;
  truePairs: number;
  truePositives: number;
  precision: number;
  recall: number;
  f1: number;
}

export interface ScoredPair {
  leftId: string;
  rightId: string;
  /** NaN when the pairs file has no probability column. */
  probability: number;
}

/** A pair's key regardless of order: dedupe finds (a, b) where the truth may list (b, a). */
export const pairKey = (a: string, b: string) => (a < b ? `${a}\u0000${b}` : `${b}\u0000${a}`);
const orderedKey = (a: string, b: string) => `${a}\u0000${b}`;

export interface EvaluateOptions {
  /**
   * The pairs link two files: left and right stay apart ((a, b) is not (b, a)). Either way a pair
   * whose two ids are equal counts, since two files may share an id space.
   */
  ordered?: boolean;
}

function keysOf(pairs: Iterable<[string, string]>, options: EvaluateOptions): Set<string> {
  const key = options.ordered ? orderedKey : pairKey;
  const keys = new Set<string>();
  for (const [a, b] of pairs) keys.add(key(a, b));
  return keys;
}

function scoreOf(found: number, truePairs: number, truePositives: number): Evaluation {
  const precision = found ? truePositives / found : 0;
  const recall = truePairs ? truePositives / truePairs : 0;
  const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
  return { found, truePairs, truePositives, precision, recall, f1 };
}

export function evaluatePairs(found: Iterable<[string, string]>, truth: Iterable<[string, string]>, options: EvaluateOptions = {}): Evaluation {
  const trueKeys = keysOf(truth, options);
  const foundKeys = keysOf(found, options);
  let truePositives = 0;
  for (const key of foundKeys) if (trueKeys.has(key)) truePositives += 1;
  return scoreOf(foundKeys.size, trueKeys.size, truePositives);
}

/**
 * Precision and recall at each threshold, from scored pairs, in one pass over them: each distinct
 * pair keeps its best probability and is counted at every threshold it reaches.
 */
export function precisionRecallCurve(
  scored: ScoredPair[],
  truth: Iterable<[string, string]>,
  thresholds = [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 0.999],
  options: EvaluateOptions = {},
): ({ threshold: number } & Evaluation)[] {
  const trueKeys = keysOf(truth, options);
  const key = options.ordered ? orderedKey : pairKey;
  const best = new Map<string, number>();
  for (const { leftId, rightId, probability } of scored) {
    const k = key(leftId, rightId);
    const p = Number.isNaN(probability) ? 1 : probability;
    if (!(best.get(k)! >= p)) best.set(k, p);
  }
  const sorted = [...thresholds].sort((a, b) => a - b);
  const found = new Array<number>(sorted.length).fill(0);
  const hits = new Array<number>(sorted.length).fill(0);
  for (const [k, p] of best) {
    const isTrue = trueKeys.has(k);
    for (let i = 0; i < sorted.length && sorted[i]! <= p; i += 1) {
      found[i]! += 1;
      if (isTrue) hits[i]! += 1;
    }
  }
  const at = new Map(sorted.map((t, i) => [t, scoreOf(found[i]!, trueKeys.size, hits[i]!)]));
  return thresholds.map((threshold) => ({ threshold, ...at.get(threshold)! }));
}

/**
 * Pairs from CSV whose first two columns are the two record ids and whose third, when there is
 * one, is the probability; a header line is skipped. Quoted ids (with commas) are read whole.
 */
export function parsePairsCsv(text: string): ScoredPair[] {
  const rows = parse(text, { relax_column_count: true, skip_empty_lines: true, trim: true, bom: true }) as string[][];
  const [first] = rows;
  if (first && /id/i.test(first[0] ?? '') && /id/i.test(first[1] ?? '')) rows.shift();
  return rows
    .filter((row) => row.length >= 2 && row[0] && row[1])
    .map((row) => ({ leftId: row[0]!, rightId: row[1]!, probability: row[2] === undefined || row[2] === '' ? Number.NaN : Number(row[2]) }));
}

export const idPairs = (pairs: ScoredPair[]): [string, string][] => pairs.map((p) => [p.leftId, p.rightId]);
