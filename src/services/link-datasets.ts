import { defaultBlocking } from '../match/blocking.js';
import { pairKey } from '../match/evaluate.js';
import { clusterPairs, oneToOne as oneEach, prepareAll, qualityClusters, scorePairs, termFrequencies, type ClusterReport, type Link } from '../match/link.js';
import { calibrate, type Calibration } from '../match/calibrate.js';
import type { Comparable } from '../match/features.js';
import { comparatorFor, type MatchModel } from '../match/model.js';
import { comparatorOfStart, estimateU, trainByPasses, type TrainingPass, type TrainingResult, type TrainingStart } from '../match/train.js';
import { selectCandidatePairs, selectDatasetRecords, selectPairsAgreeingOn, trainingPassKeys, type BlockingReport, type DatasetScope } from '../store/candidates.js';
import type { Queryable } from '../store/database.js';

export interface LinkOptions {
  model: MatchModel;
  threshold: number;
  /** Each record linked at most once, best first. */
  oneToOne?: boolean;
  /** Add the pairs that transitive links imply (within clusters). */
  cluster?: boolean;
  /** The probability a link needs to join a cluster (default: the pairs' threshold). */
  clusterThreshold?: number;
  onProgress?: (stage: string, done: number, total: number) => void;
}

export interface LinkResult {
  links: Link[];
  candidatePairs: number;
  /** What blocking did: each rule's pairs, how too-large rules were refined, and its recall estimate. */
  blocking: BlockingReport;
  leftRecords: number;
  rightRecords: number;
  clusters?: Map<string, string>;
  clusterReport?: ClusterReport;
  /** Comparisons whose field barely varies in this data: they weighed nothing. */
  constantFields: string[];
  /** How the model was fitted to this data (its u and prior); null below MIN_RECORDS_FOR_CONSTANT records a side. */
  calibration: Calibration | null;
}

/** Random pairs that tell how often each field is present and whether it varies. */
const RANDOM_PAIRS = 20_000;

/** The model fitted to the two sides (see calibrate): the prior from the candidates, constant fields weightless. */
function calibrateToSides(model: MatchModel, pairs: { leftId: string; rightId: string }[], left: Map<string, Comparable>, right: Map<string, Comparable>, within: boolean) {
  const comparator = comparatorFor(model);
  const randomCounts = estimateU(comparator, [...left.values()], [...right.values()], RANDOM_PAIRS);
  const scratch = new Uint8Array(comparator.comparisons.length);
  function* candidates() {
    for (const pair of pairs) yield comparator.compare(left.get(pair.leftId)!, right.get(pair.rightId)!, scratch);
  }
  const comparablePairs = within ? (left.size * (left.size - 1)) / 2 : left.size * right.size;
  return calibrate(model, randomCounts, candidates(), comparablePairs);
}

/** Fewer records a side than this, and random pairs repeat the same few pairs: no field is judged constant. */
const MIN_RECORDS_FOR_CONSTANT = 100;

async function loadSides(db: Queryable, left: DatasetScope, right: DatasetScope) {
  const within = left.partnerId === right.partnerId && left.datasetId === right.datasetId;
  const leftRecords = prepareAll(await selectDatasetRecords(db, left));
  const rightRecords = within ? leftRecords : prepareAll(await selectDatasetRecords(db, right));
  return { within, leftRecords, rightRecords };
}

/**
 * Links the records of `left` to those of `right` (or deduplicates one dataset when both are the
 * same): candidate pairs by the blocking rules in SQL, scored with the model, kept at or above the
 * threshold. Term frequencies come from the right-hand side, the data being searched.
 */
export async function linkDatasets(db: Queryable, left: DatasetScope, right: DatasetScope, options: LinkOptions): Promise<LinkResult> {
  const { pairs, blocking } = await selectCandidatePairs(db, left, right, { blocking: options.model.blocking });
  options.onProgress?.('candidates', pairs.length, pairs.length);
  const { within, leftRecords, rightRecords } = await loadSides(db, left, right);
  // Random pairs only say a field is constant when there are enough records to draw them from.
  const enough = leftRecords.size >= MIN_RECORDS_FOR_CONSTANT && rightRecords.size >= MIN_RECORDS_FOR_CONSTANT;
  const { model, calibration } = enough ? calibrateToSides(options.model, pairs, leftRecords, rightRecords, within) : { model: options.model, calibration: null };
  let links = scorePairs(pairs, leftRecords, rightRecords, model, {
    threshold: options.threshold,
    tf: termFrequencies(rightRecords.values()),
    onProgress: (done) => options.onProgress?.('scored', done, pairs.length),
  });
  if (options.oneToOne && !within) links = oneEach(links);
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
  return { links, candidatePairs: pairs.length, blocking, constantFields: calibration?.constantFields ?? [], calibration, leftRecords: leftRecords.size, rightRecords: rightRecords.size, clusters: assignment, clusterReport };
}

/**
 * Trains a model without labels on datasets, as Splink does: u from random pairs; m by EM in a
 * pass blocked on full names (which learns everything else) and one blocked on birth dates (which
 * learns the names), so that no field learns from pairs chosen for agreeing on it; the prior from
 * a deterministic rule over its recall, as calibrate estimates it for any run.
 */
export async function trainOnDatasets(
  db: Queryable,
  sides: { left: DatasetScope; right: DatasetScope; label: string }[],
  start: TrainingStart,
): Promise<TrainingResult & { passes: { name: string; pairs: number; iterations: number }[] }> {
  const comparator = comparatorOfStart(start);
  const blocking = start.blocking ?? defaultBlocking();
  const candidates: Uint8Array[] = [];
  const passes: TrainingPass[] = Object.entries(trainingPassKeys).map(([key, fixed]) => ({ name: `blocked on ${key}`, vectors: [], fixed: [...fixed] }));
  let uCounts: number[][] | undefined;
  let comparablePairs = 0;
  const trainedOn: Record<string, unknown> = {};
  for (const { left, right, label } of sides) {
    const { pairs } = await selectCandidatePairs(db, left, right, { blocking, estimateRecall: false });
    const { leftRecords, rightRecords } = await loadSides(db, left, right);
    const vector = (pair: { leftId: string; rightId: string }) => comparator.compare(leftRecords.get(pair.leftId)!, rightRecords.get(pair.rightId)!);
    for (const pair of pairs) candidates.push(vector(pair));
    for (const [i, key] of (Object.keys(trainingPassKeys) as (keyof typeof trainingPassKeys)[]).entries()) {
      for (const pair of await selectPairsAgreeingOn(db, left, right, key)) passes[i]!.vectors.push(vector(pair));
    }
    const within = left.datasetId === right.datasetId;
    comparablePairs += within ? (leftRecords.size * (leftRecords.size - 1)) / 2 : leftRecords.size * rightRecords.size;
    const counts = estimateU(comparator, [...leftRecords.values()], [...rightRecords.values()]);
    uCounts = uCounts ? uCounts.map((row, i) => row.map((c, j) => c + counts[i]![j]!)) : counts;
    trainedOn[label] = { records: leftRecords.size + (left.datasetId === right.datasetId ? 0 : rightRecords.size), candidatePairs: pairs.length };
  }
  const result = trainByPasses(passes, candidates, uCounts!, start, { trainedOn: { ...trainedOn, passes: passes.map((p) => ({ blockedOn: p.name, fixed: p.fixed, pairs: p.vectors.length })) } });
  // The model keeps the probability that two random records match (Splink's λ): from the pairs
  // the deterministic rule finds over its recall under the trained m (calibrate), which on the
  // foreigners register gave 2.2e-6 against a true 2.6e-6. EM's share of matches among the
  // blocked pairs, rescaled, is the fallback: it took nearly every candidate for a match there
  // (1.6e-4), since a shared birth date outweighs two different names.
  const { estimated } = calibrate(result.model, uCounts!, candidates, comparablePairs).calibration.prior;
  const matches = result.model.prior * candidates.length;
  result.model.prior = estimated ?? Number(Math.min(Math.max(matches / comparablePairs, 1e-9), 0.5).toPrecision(6));
  return result;
}
