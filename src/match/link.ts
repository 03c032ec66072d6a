/** Scoring candidate pairs into links, and what linkage does with them: thresholds, one-to-one, clusters. */
import type { CustomerRecord } from '../standard/customer.js';
import type { BlockingReport } from './blocking.js';
import { calibrate, type Calibration } from './calibrate.js';
import { pairKey } from './evaluate.js';
import type { Comparator } from './compare.js';
import { prepare, type Comparable } from './features.js';
import { comparatorFor, matchWeightOf, probabilityOf, scoreVector, type MatchGrade, type MatchModel, type TermFrequencies } from './model.js';
import { compareIds, filterPairs, pairAt, pairCount, slicePairs, type PairList } from './pairs.js';
import { estimateU } from './train.js';

export interface Link {
  leftId: string;
  rightId: string;
  probability: number;
  matchWeight: number;
  grade: MatchGrade | null;
}

/** Term frequencies of given and family names and birth dates over some records (shares of those records). */
export function termFrequencies(records: Iterable<Comparable>): TermFrequencies {
  const counts = { given_name: new Map<string, number>(), family_name: new Map<string, number>(), birth_date: new Map<string, number>() };
  const count = (values: Map<string, number>, value: string | null) => value && values.set(value, (values.get(value) ?? 0) + 1);
  let total = 0;
  for (const record of records) {
    total += 1;
    count(counts.given_name, record.given);
    count(counts.family_name, record.family);
    // A date many records share (a placeholder such as 1 January for an unknown day) is weak evidence.
    count(counts.birth_date, record.birthDate);
  }
  return (comparison, value) => {
    const count = counts[comparison as keyof typeof counts]?.get(value);
    return count && total ? count / total : undefined;
  };
}

/**
 * Pairs a long loop handles between turns of the event loop: so that a job's progress is written,
 * a server's statements are sent (the recall estimate runs meanwhile), and other requests are
 * answered while a linkage is scored.
 */
const PAIRS_A_TURN = 50_000;
/** Records prepared a turn (a record costs about as much as five pairs). */
const RECORDS_A_TURN = 10_000;
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

export function prepareAll(records: { sourceId: string; record: CustomerRecord }[]): Map<string, Comparable> {
  return new Map(records.map(({ sourceId, record }) => [sourceId, prepare(record)]));
}

/** prepareAll between turns of the event loop: a server's statements go out meanwhile. */
export async function prepareAllYielding(records: { sourceId: string; record: CustomerRecord }[]): Promise<Map<string, Comparable>> {
  const prepared = new Map<string, Comparable>();
  for (let from = 0; from < records.length; from += RECORDS_A_TURN) {
    await nextTurn();
    for (const { sourceId, record } of records.slice(from, from + RECORDS_A_TURN)) prepared.set(sourceId, prepare(record));
  }
  return prepared;
}

/**
 * Each candidate pair's comparison vector, computed once (the model's fit reads them all, then
 * scoring does): flat, `width` levels a pair. A pair whose record was not loaded (an upload
 * between blocking and loading the sides) is left out.
 */
interface ComparedPairs {
  pairs: PairList;
  vectors: Uint8Array;
  width: number;
  /** The pairs' records by position in the list's ids. */
  leftRecords: Comparable[];
}

/** Another thread that compares pairs under the same model, of the same records (src/services/compare-in-worker.ts). */
export interface PairHelper {
  /** The pairs' comparison vectors, flat, as compareCandidates lays them out. */
  compare(pairs: PairList): Promise<Uint8Array>;
  /** Fewer pairs than this are compared in one thread (sending them would cost more than it saves). */
  fromPairs: number;
}

/** Each id's record, by the id's position (undefined for one not loaded). */
export const recordsByPosition = (ids: readonly string[], records: Map<string, Comparable>) => ids.map((id) => records.get(id));

/** The pairs both of whose records were loaded (the list itself when all were): an upload between blocking and loading may have removed one. */
export const pairsWithRecords = (pairs: PairList, left: (Comparable | undefined)[], right: (Comparable | undefined)[]) =>
  filterPairs(pairs, (l, r) => left[l] !== undefined && right[r] !== undefined);

/** Compares the pairs [from, to) of a list into `vectors` (laid out from pair `from`), records found by position. */
export function comparePairsInto(comparator: Comparator, pairs: PairList, left: (Comparable | undefined)[], right: (Comparable | undefined)[], vectors: Uint8Array, from = 0, to = pairCount(pairs)): void {
  const width = comparator.comparisons.length;
  for (let i = from; i < to; i += 1) comparator.compareAt(left[pairs.left[i]!]!, right[pairs.right[i]!]!, vectors, (i - from) * width);
}

async function compareCandidates(
  model: MatchModel,
  candidates: PairList,
  left: Map<string, Comparable>,
  right: Map<string, Comparable>,
  onProgress?: (done: number) => void,
  helper?: PairHelper,
): Promise<ComparedPairs> {
  const comparator = comparatorFor(model);
  const width = comparator.comparisons.length;
  const leftRecords = recordsByPosition(candidates.leftIds, left);
  const rightRecords = candidates.rightIds === candidates.leftIds && left === right ? leftRecords : recordsByPosition(candidates.rightIds, right);
  const pairs = pairsWithRecords(candidates, leftRecords, rightRecords);
  const count = pairCount(pairs);
  const vectors = new Uint8Array(count * width);
  // The helper takes the second half, this thread the first.
  const here = helper && count >= helper.fromPairs ? Math.floor(count / 2) : count;
  const helped = here < count ? helper!.compare(slicePairs(pairs, here)) : undefined;
  helped?.catch(() => {});
  for (let from = 0; from < here; from += PAIRS_A_TURN) {
    await nextTurn();
    const to = Math.min(from + PAIRS_A_TURN, here);
    comparePairsInto(comparator, pairs, leftRecords, rightRecords, vectors.subarray(from * width), from, to);
    onProgress?.(to);
  }
  if (helped) {
    vectors.set(await helped, here * width);
    onProgress?.(count);
  }
  return { pairs, vectors, width, leftRecords: leftRecords as Comparable[] };
}

function* vectorsOf({ vectors, width }: ComparedPairs): Generator<Uint8Array> {
  for (let at = 0; at < vectors.length; at += width) yield vectors.subarray(at, at + width);
}

/** Scores every compared pair and keeps those at or above `threshold`, best first. */
async function scorePairs(
  compared: ComparedPairs,
  model: MatchModel,
  options: { threshold: number; tf?: TermFrequencies; onProgress?: (done: number) => void },
): Promise<Link[]> {
  const links: Link[] = [];
  let index = 0;
  for (const vector of vectorsOf(compared)) {
    if (index % PAIRS_A_TURN === 0) {
      if (index) options.onProgress?.(index);
      await nextTurn();
    }
    const a = compared.leftRecords[compared.pairs.left[index]!]!;
    // Weighed first, scored (an object a pair) only when it reaches the threshold: 2 % of 100k × 100k's pairs.
    if (probabilityOf(matchWeightOf(model, vector, options.tf, a)) >= options.threshold) {
      const score = scoreVector(model, vector, { tf: options.tf, a });
      links.push({ ...pairAt(compared.pairs, index), probability: score.probability, matchWeight: score.matchWeight, grade: score.grade });
    }
    index += 1;
  }
  return links.sort((x, y) => y.matchWeight - x.matchWeight || compareIds(x.leftId, y.leftId) || compareIds(x.rightId, y.rightId));
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

export interface ClusterOptions {
  /** Links below this probability join no cluster (a threshold of the clusters' own, above the pairs'). */
  threshold: number;
  /**
   * A cluster of n records holds at least this share of its n(n−1)/2 possible links, or it is split
   * (0.4: Splink's fake_1000, whose people share few fields, keeps its clusters; 0.5 split three).
   */
  minDensity?: number;
  /** Clusters larger than this are split whatever their density (true clusters are small). */
  maxSize?: number;
}

export interface ClusterReport {
  /** Clusters of two or more records. */
  clusters: number;
  largest: number;
  /** How many clusters have each size, by size. */
  sizes: Record<string, number>;
  /** Mean edge density of the clusters of three or more (1 when there are none). */
  meanDensity: number;
  /** Components split because they were too sparse or too large. */
  split: number;
}

/**
 * Clusters that hold together: connected components of the links at `threshold`, where a
 * component too sparse (a chain of "A is like B is like C …") or too large is split by dropping
 * its weakest links, the lowest tenth at a time, until every piece is dense and small enough.
 * Memory is the links' and the records': no pair list is ever built for a component.
 */
export function qualityClusters(links: Link[], sameSide: boolean, options: ClusterOptions): { assignment: Map<string, string>; report: ClusterReport } {
  const minDensity = options.minDensity ?? 0.4;
  const maxSize = options.maxSize ?? 50;
  const keyOf = (id: string, left: boolean) => (left || sameSide ? `L:${id}` : `R:${id}`);
  const edges = links.filter((l) => l.probability >= options.threshold).map((l) => ({ a: keyOf(l.leftId, true), b: keyOf(l.rightId, false), weight: l.matchWeight }));
  const assignment = new Map<string, string>();
  const sizes: Record<string, number> = {};
  let split = 0;
  let densities = 0;
  let dense = 0;
  const components = (list: typeof edges) => {
    const parent = new Map<string, string>();
    const find = (x: string): string => {
      let root = x;
      while (parent.get(root) !== root) root = parent.get(root) ?? (parent.set(root, root), root);
      for (let node = x; node !== root; ) {
        const next = parent.get(node)!;
        parent.set(node, root);
        node = next;
      }
      return root;
    };
    for (const { a, b } of list) {
      const [x, y] = [find(a), find(b)];
      if (x !== y) parent.set(x < y ? y : x, x < y ? x : y);
    }
    const groups = new Map<string, { members: Set<string>; edges: typeof edges }>();
    for (const key of parent.keys()) {
      const root = find(key);
      if (!groups.has(root)) groups.set(root, { members: new Set(), edges: [] });
      groups.get(root)!.members.add(key);
    }
    for (const edge of list) groups.get(find(edge.a))!.edges.push(edge);
    return [...groups.values()];
  };
  const settle = (group: { members: Set<string>; edges: typeof edges }, depth: number) => {
    const n = group.members.size;
    const density = n > 1 ? group.edges.length / ((n * (n - 1)) / 2) : 1;
    if (n > 2 && (density < minDensity || n > maxSize) && group.edges.length > 1 && depth < 64) {
      split += depth === 0 ? 1 : 0;
      // Drop the weakest tenth (at least one), and settle each piece.
      const sorted = [...group.edges].sort((x, y) => x.weight - y.weight);
      const kept = sorted.slice(Math.max(1, Math.floor(sorted.length / 10)));
      const pieces = components(kept);
      const placed = new Set<string>();
      for (const piece of pieces) {
        for (const member of piece.members) placed.add(member);
        settle(piece, depth + 1);
      }
      // A record whose every link was weak is a cluster of its own.
      for (const member of group.members) if (!placed.has(member)) assignment.set(member, member);
      return;
    }
    const root = [...group.members].sort()[0]!;
    for (const member of group.members) assignment.set(member, root);
    sizes[String(n)] = (sizes[String(n)] ?? 0) + 1;
    if (n > 2) {
      densities += density;
      dense += 1;
    }
  };
  for (const group of components(edges)) settle(group, 0);
  const multi = Object.entries(sizes);
  return {
    assignment,
    report: {
      clusters: multi.reduce((sum, [, count]) => sum + count, 0),
      largest: multi.reduce((max, [size]) => Math.max(max, Number(size)), 0),
      sizes,
      meanDensity: dense ? Number((densities / dense).toFixed(3)) : 1,
      split,
    },
  };
}

export interface LinkOptions {
  model: MatchModel;
  threshold: number;
  /** Each record linked at most once, best first. */
  oneToOne?: boolean;
  /** Add the pairs that transitive links imply (within clusters). */
  cluster?: boolean;
  /** The probability a link needs to join a cluster (default: the pairs' threshold). */
  clusterThreshold?: number;
  /** Another thread that compares half of the pairs of a large linkage. */
  helper?: PairHelper;
  onProgress?: (stage: string, done: number, total: number) => void;
}

export interface LinkResult extends ScoredLinkage {
  /** What blocking did: each rule's pairs, how too-large rules were refined, and its recall estimate. */
  blocking: BlockingReport;
}

/** What scoring a linkage's candidate pairs gives (blocking reports on its own). */
export interface ScoredLinkage {
  links: Link[];
  candidatePairs: number;
  leftRecords: number;
  rightRecords: number;
  clusters?: Map<string, string>;
  clusterReport?: ClusterReport;
  /** Comparisons whose field barely varies in this data: they weighed nothing. */
  constantFields: string[];
  /** How the model was fitted to this data (its prior, its constant fields); null below MIN_RECORDS_FOR_CONSTANT records a side. */
  calibration: Calibration | null;
}

/** Random pairs that tell how often each field is present and whether it varies. */
const RANDOM_PAIRS = 20_000;

/** The model fitted to the two sides (see calibrate): the prior from the candidates, constant fields weightless. */
function calibrateToSides(model: MatchModel, compared: ComparedPairs, left: Map<string, Comparable>, right: Map<string, Comparable>, within: boolean) {
  const randomCounts = estimateU(comparatorFor(model), [...left.values()], [...right.values()], RANDOM_PAIRS);
  const comparablePairs = within ? (left.size * (left.size - 1)) / 2 : left.size * right.size;
  return calibrate(model, randomCounts, vectorsOf(compared), comparablePairs);
}

/** Fewer records a side than this, and random pairs repeat the same few pairs: no field is judged constant. */
const MIN_RECORDS_FOR_CONSTANT = 100;

/**
 * Scores a linkage's candidate pairs (from blocking, in SQL or in memory) into links: the model
 * fitted to the two sides (calibrate), pairs kept at or above the threshold, one to one or
 * clustered on request. Term frequencies come from the right-hand side, the data being searched.
 */
export async function linkCandidates(
  pairs: PairList,
  leftRecords: Map<string, Comparable>,
  rightRecords: Map<string, Comparable>,
  within: boolean,
  options: LinkOptions,
): Promise<ScoredLinkage> {
  // Random pairs only say a field is constant when there are enough records to draw them from.
  const enough = leftRecords.size >= MIN_RECORDS_FOR_CONSTANT && rightRecords.size >= MIN_RECORDS_FOR_CONSTANT;
  const compared = await compareCandidates(options.model, pairs, leftRecords, rightRecords, (done) => options.onProgress?.('compared', done, pairCount(pairs)), options.helper);
  const { model, calibration } = enough ? calibrateToSides(options.model, compared, leftRecords, rightRecords, within) : { model: options.model, calibration: null };
  let links = await scorePairs(compared, model, {
    threshold: options.threshold,
    tf: termFrequencies(rightRecords.values()),
    onProgress: (done) => options.onProgress?.('scored', done, pairCount(pairs)),
  });
  if (options.oneToOne && !within) links = oneToOne(links);
  let assignment: Map<string, string> | undefined;
  let clusterReport: ClusterReport | undefined;
  if (options.cluster) {
    const clustered = qualityClusters(links, within, { threshold: options.clusterThreshold ?? options.threshold });
    assignment = clustered.assignment;
    clusterReport = clustered.report;
    if (within) {
      // Transitive links become pairs, scored by the pair's own weight where it was a candidate.
      const scored = new Map(links.map((l) => [pairKey(l.leftId, l.rightId), l]));
      links = clusterPairs(assignment).map(
        (pair) => scored.get(pairKey(pair.leftId, pair.rightId)) ?? { ...pair, probability: options.threshold, matchWeight: Number.NaN, grade: null },
      );
    }
  }
  return { links, candidatePairs: pairCount(pairs), constantFields: calibration?.constantFields ?? [], calibration, leftRecords: leftRecords.size, rightRecords: rightRecords.size, clusters: assignment, clusterReport };
}
