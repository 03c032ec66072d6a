/** Precision, recall and F1 of found pairs against true pairs, and the precision-recall curve. */

export interface Evaluation {
  found: number;
  truePairs: number;
  truePositives: number;
  precision: number;
  recall: number;
  f1: number;
}

/** A pair's key regardless of order: dedupe finds (a, b) where the truth may list (b, a). */
export const pairKey = (a: string, b: string) => (a < b ? `${a}\u0000${b}` : `${b}\u0000${a}`);

export function evaluatePairs(found: Iterable<[string, string]>, truth: Iterable<[string, string]>): Evaluation {
  const trueKeys = new Set<string>();
  for (const [a, b] of truth) if (a !== b) trueKeys.add(pairKey(a, b));
  const foundKeys = new Set<string>();
  for (const [a, b] of found) if (a !== b) foundKeys.add(pairKey(a, b));
  let truePositives = 0;
  for (const key of foundKeys) if (trueKeys.has(key)) truePositives += 1;
  const precision = foundKeys.size ? truePositives / foundKeys.size : 0;
  const recall = trueKeys.size ? truePositives / trueKeys.size : 0;
  const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
  return { found: foundKeys.size, truePairs: trueKeys.size, truePositives, precision, recall, f1 };
}

/** Precision and recall at each threshold, from scored pairs. */
export function precisionRecallCurve(
  scored: { leftId: string; rightId: string; probability: number }[],
  truth: Iterable<[string, string]>,
  thresholds = [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 0.999],
): ({ threshold: number } & Evaluation)[] {
  const truthList = [...truth];
  return thresholds.map((threshold) => ({
    threshold,
    ...evaluatePairs(scored.filter((s) => s.probability >= threshold).map((s) => [s.leftId, s.rightId] as [string, string]), truthList),
  }));
}

/** Pairs from CSV text whose first two columns are the two record ids (a header line is skipped). */
export function parsePairsCsv(text: string): [string, string][] {
  const lines = text.split(/\r?\n/).filter((line) => line.trim());
  const pairs = lines.map((line) => line.split(',').map((cell) => cell.trim().replace(/^"|"$/g, '')) as [string, string]);
  const [first] = pairs;
  if (first && /id/i.test(first[0]) && /id/i.test(first[1])) pairs.shift();
  return pairs.filter((pair) => pair.length >= 2 && pair[0] && pair[1]);
}
