export type { LinkOptions, LinkResult } from '../match/link.js';
import { defaultBlocking } from '../match/blocking.js';
import { linkCandidates, prepareAllYielding, type LinkOptions, type LinkResult } from '../match/link.js';
import { calibrate } from '../match/calibrate.js';
import type { MatchModel } from '../match/model.js';
import { pairAt, pairCount, type IdPair } from '../match/pairs.js';
import { comparatorOfStart, estimateU, trainByPasses, type TrainingPass, type TrainingResult, type TrainingStart } from '../match/train.js';
import { selectCandidatePairs, selectDatasetRecords, selectPairsAgreeingOn, trainingPassKeys, withCandidatePairs, type DatasetScope } from '../store/candidates.js';
import type { Database, Queryable } from '../store/database.js';
import { compareInWorker } from './compare-in-worker.js';

/**
 * Records (both sides together) and candidate pairs from which a linkage compares in two threads;
 * below, one is quicker (a worker costs its start and a copy of the records).
 */
const TWO_THREADS_FROM = { records: 20_000, pairs: 20_000 };

/** Comparing workers of this process now. */
let comparingWorkers = 0;

interface CompareAlso {
  model: MatchModel;
  /** A worker or none, whatever the sizes; by default one when there are many records and fewer than `maxWorkers` (default 1) are busy. */
  twoThreads?: boolean;
  maxWorkers?: number;
}

/** Both sides' records, prepared; with a worker that compares too, as `compareAlso` says. */
async function loadSides(db: Queryable, left: DatasetScope, right: DatasetScope, compareAlso?: CompareAlso) {
  const within = left.partnerId === right.partnerId && left.datasetId === right.datasetId;
  const leftRead = await selectDatasetRecords(db, left);
  const rightRead = within ? null : await selectDatasetRecords(db, right);
  const worthIt = leftRead.length + (rightRead?.length ?? 0) >= TWO_THREADS_FROM.records && comparingWorkers < (compareAlso?.maxWorkers ?? 1);
  const helper = compareAlso && (compareAlso.twoThreads ?? worthIt) ? compareInWorker(compareAlso.model, leftRead, rightRead, compareAlso.twoThreads ? 1 : TWO_THREADS_FROM.pairs) : undefined;
  if (helper) comparingWorkers += 1;
  try {
    const leftRecords = await prepareAllYielding(leftRead);
    const rightRecords = rightRead ? await prepareAllYielding(rightRead) : leftRecords;
    return { within, leftRecords, rightRecords, helper };
  } catch (error) {
    if (helper) {
      comparingWorkers -= 1;
      await helper.close();
    }
    throw error;
  }
}

/**
 * Links the records of `left` to those of `right` (or deduplicates one dataset when both are the
 * same): candidate pairs by the blocking rules in SQL, then scored and kept as linkCandidates does.
 * The records are read and prepared while the database blocks, and scored while it estimates the
 * blocking's recall (on a server, the two work at once).
 */
export function linkDatasets(db: Queryable, left: DatasetScope, right: DatasetScope, options: LinkOptions & Omit<CompareAlso, 'model'>): Promise<LinkResult> {
  return inLinkageSlot(db, () => linkNow(db, left, right, options));
}

/**
 * Linkages running on each database. One holds a connection while it blocks and reads its records
 * on a second, so at most half as many run at once as the database has connections: as many as it
 * had connections each held one and waited for a second for ever. The others wait their turn.
 */
const linkageSlots = new WeakMap<Database, { running: number; waiting: (() => void)[] }>();

async function inLinkageSlot<T>(db: Queryable, fn: () => Promise<T>): Promise<T> {
  // A transaction's linkage runs on its one connection.
  if (!('connections' in db)) return fn();
  const database = db as Database;
  let slots = linkageSlots.get(database);
  if (!slots) linkageSlots.set(database, (slots = { running: 0, waiting: [] }));
  const room = Math.max(1, Math.floor(database.connections / 2));
  while (slots.running >= room) await new Promise<void>((resolve) => slots.waiting.push(resolve));
  slots.running += 1;
  try {
    return await fn();
  } finally {
    slots.running -= 1;
    slots.waiting.shift()?.();
  }
}

async function linkNow(db: Queryable, left: DatasetScope, right: DatasetScope, options: LinkOptions & Omit<CompareAlso, 'model'>): Promise<LinkResult> {
  const loading = loadSides(db, left, right, { model: options.model, twoThreads: options.twoThreads, maxWorkers: options.maxWorkers });
  // Awaited below; handled now, so that a read failing while blocking runs is no unhandled rejection.
  loading.catch(() => {});
  try {
    const { result, blocking } = await withCandidatePairs(db, left, right, { blocking: options.model.blocking }, async (pairs) => {
      options.onProgress?.('candidates', pairCount(pairs), pairCount(pairs));
      const { within, leftRecords, rightRecords, helper } = await loading;
      return linkCandidates(pairs, leftRecords, rightRecords, within, { ...options, helper });
    });
    return { ...result, blocking };
  } finally {
    // Blocking may fail first: the read still ends before its connection is let go of, and the worker ends.
    await loading.then(
      async ({ helper }) => {
        if (!helper) return;
        comparingWorkers -= 1;
        await helper.close();
      },
      () => {},
    );
  }
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
    const vector = (pair: IdPair) => comparator.compare(leftRecords.get(pair.leftId)!, rightRecords.get(pair.rightId)!);
    for (let i = 0; i < pairCount(pairs); i += 1) candidates.push(vector(pairAt(pairs, i)));
    for (const [i, key] of (Object.keys(trainingPassKeys) as (keyof typeof trainingPassKeys)[]).entries()) {
      for (const pair of await selectPairsAgreeingOn(db, left, right, key)) passes[i]!.vectors.push(vector(pair));
    }
    const within = left.datasetId === right.datasetId;
    comparablePairs += within ? (leftRecords.size * (leftRecords.size - 1)) / 2 : leftRecords.size * rightRecords.size;
    const counts = estimateU(comparator, [...leftRecords.values()], [...rightRecords.values()]);
    uCounts = uCounts ? uCounts.map((row, i) => row.map((c, j) => c + counts[i]![j]!)) : counts;
    trainedOn[label] = { records: leftRecords.size + (left.datasetId === right.datasetId ? 0 : rightRecords.size), candidatePairs: pairCount(pairs) };
  }
  const result = trainByPasses(passes, candidates, uCounts!, start, { trainedOn: { ...trainedOn, passes: passes.map((p) => ({ blockedOn: p.name, fixed: p.fixed, pairs: p.vectors.length })) } });
  // The model keeps the probability that two random records match (Splink's λ): from the pairs
  // the deterministic rule finds over its recall under the trained m (calibrate), which on the
  // foreigners register gave 2.2e-6 against a true 2.6e-6. EM's share of matches among the
  // blocked pairs, rescaled, is the fallback: it took nearly every candidate for a match there
  // (1.6e-4), since a shared birth date outweighs two different names.
  const { estimated } = calibrate(result.model, uCounts!, candidates, comparablePairs).calibration.prior;
  result.model.prior = estimated ?? Number(Math.min(Math.max((result.model.prior * candidates.length) / comparablePairs, 1e-9), 0.5).toPrecision(6));
  return result;
}
