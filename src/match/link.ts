/** Scoring candidate pairs into links, and what linkage does with them: thresholds, one-to-one, clusters. */
import type { CustomerRecord } from '../standard/customer.js';
import { prepare, type Comparable } from './compare.js';
import { scorePair, type MatchGrade, type MatchModel, type TermFrequencies } from './model.js';

export interface Link {
  leftId: string;
  rightId: string;
  probability: number;
  matchWeight: number;
  grade: MatchGrade | null;
}

/** Term frequencies of given and family names over some records (shares of those records). */
export function termFrequencies(records: Iterable<Comparable>): TermFrequencies {
  const counts = { given_name: new Map<string, number>(), family_name: new Map<string, number>() };
  let total = 0;
  for (const record of records) {
    total += 1;
    if (record.given) counts.given_name.set(record.given, (counts.given_name.get(record.given) ?? 0) + 1);
    if (record.family) counts.family_name.set(record.family, (counts.family_name.get(record.family) ?? 0) + 1);
  }
  return (comparison, value) => {
    const count = counts[comparison as keyof typeof counts]?.get(value);
    return count && total ? count / total : undefined;
  };
}

export function prepareAll(records: { sourceId: string; record: CustomerRecord }[]): Map<string, Comparable> {
  return new Map(records.map(({ sourceId, record }) => [sourceId, prepare(record)]));
}

/** Scores every candidate pair and keeps those at or above `threshold`, best first. */
export function scorePairs(
  pairs: { leftId: string; rightId: string }[],
  left: Map<string, Comparable>,
  right: Map<string, Comparable>,
  model: MatchModel,
  options: { threshold: number; tf?: TermFrequencies; onProgress?: (done: number) => void },
): Link[] {
  const links: Link[] = [];
  pairs.forEach((pair, index) => {
    const a = left.get(pair.leftId);
    const b = right.get(pair.rightId);
    if (!a || !b) return;
    const score = scorePair(model, a, b, { tf: options.tf });
    if (score.probability >= options.threshold) {
      links.push({ ...pair, probability: score.probability, matchWeight: score.matchWeight, grade: score.grade });
    }
    if (options.onProgress && (index + 1) % 50_000 === 0) options.onProgress(index + 1);
  });
  return links.sort((x, y) => y.matchWeight - x.matchWeight || x.leftId.localeCompare(y.leftId) || x.rightId.localeCompare(y.rightId));
}

/** Each record linked at most once, best links first (greedy on the match weight). */
export function oneToOne(links: Link[]): Link[] {
  const usedLeft = new Set<string>();
  const usedRight = new Set<string>();
  return links.filter((link) => {
    if (usedLeft.has(link.leftId) || usedRight.has(link.rightId)) return false;
    usedLeft.add(link.leftId);
    usedRight.add(link.rightId);
    return true;
  });
}

/**
 * Clusters of transitively linked records (connected components, by union-find); keys are
 * `L:<id>` and `R:<id>` so the two sides never collide. Returns each record's cluster id.
 */
export function clusters(links: Link[], sameSide = false): Map<string, string> {
  const parent = new Map<string, string>();
  const find = (x: string): string => {
    let root = x;
    while (parent.get(root) !== root) root = parent.get(root) ?? (parent.set(root, root), root);
    let node = x;
    while (node !== root) {
      const next = parent.get(node)!;
      parent.set(node, root);
      node = next;
    }
    return root;
  };
  for (const link of links) {
    const a = find(`L:${link.leftId}`);
    const b = find(sameSide ? `L:${link.rightId}` : `R:${link.rightId}`);
    if (a !== b) parent.set(a < b ? b : a, a < b ? a : b);
  }
  return new Map([...parent.keys()].map((key) => [key, find(key)]));
}

/** All pairs within clusters (for deduplication: transitive links become pairs too). */
export function clusterPairs(assignment: Map<string, string>): { leftId: string; rightId: string }[] {
  const members = new Map<string, string[]>();
  for (const [key, root] of assignment) members.set(root, [...(members.get(root) ?? []), key.slice(2)]);
  const pairs: { leftId: string; rightId: string }[] = [];
  for (const ids of members.values()) {
    ids.sort();
    for (let i = 0; i < ids.length; i += 1) for (let j = i + 1; j < ids.length; j += 1) pairs.push({ leftId: ids[i]!, rightId: ids[j]! });
  }
  return pairs;
}
