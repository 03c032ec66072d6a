/**
 * npm run bench:separability [-- file.csv]: how well could any pairwise matcher do on the foreigners
 * register (`../shared/data/other/foreigners.csv`, or a file of its columns) from what its records
 * hold: given and second names, family name, birth date, region, country?
 *
 * Every true pair of the register shares its country and its birth day and month (printed, checked).
 * Each pair of that population is described by a comparison profile (Jaro-Winkler of the given and
 * of the family names in buckets, how the birth years relate, region, equal names, first letters);
 * the best a classifier reading those comparisons can do is to link the profiles whose share of true
 * pairs is highest, down to the cut-off of best F1. Printed for a coarse and a fine profile, each
 * in-sample (optimistic: a profile of few pairs is pure by chance) and held out (purity learnt on
 * half of the day-month blocks, F1 measured on the other half). No record value is printed.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { jaroWinkler } from '../src/match/metrics.js';
import { transliterationKey } from '../src/match/spellings.js';

const file = process.argv[2] ?? new URL('../../shared/data/other/foreigners.csv', import.meta.url).pathname;
interface Row { id: string; fname: string; sname: string; surname: string; date: string; region: string; country: string; true_id: string }
const rows = parse(readFileSync(file), { columns: true, skip_empty_lines: true }) as Row[];
const people = rows.map((r) => ({ given: `${r.fname} ${r.sname}`.trim(), family: r.surname, date: r.date, region: r.region, country: r.country, entity: r.true_id, spelling: transliterationKey(r.fname) }));

const clusterSizes = new Map<string, number>();
for (const p of people) clusterSizes.set(p.entity, (clusterSizes.get(p.entity) ?? 0) + 1);
let truePairs = 0;
for (const n of clusterSizes.values()) truePairs += (n * (n - 1)) / 2;

type Person = (typeof people)[number];
const blocks = new Map<string, Person[]>();
for (const p of people) {
  const key = `${p.country}|${p.date.slice(5)}`;
  const block = blocks.get(key) ?? [];
  block.push(p);
  blocks.set(key, block);
}

function yearRelation(a: string, b: string, fine: boolean): string {
  const [x, y] = [a.slice(0, 4), b.slice(0, 4)];
  if (x === y) return 'same';
  if (x.slice(2) === y.slice(2) || x.slice(0, 2) + x[3] + x[2] === y) return 'last two kept or swapped';
  let differing = 0;
  for (let i = 0; i < 4; i += 1) differing += Number(x[i] !== y[i]);
  return differing === 1 ? 'one digit' : fine && differing === 2 ? 'two digits' : 'other';
}

const profiles = {
  coarse: (a: Person, b: Person) => `${Math.floor(jaroWinkler(a.given, b.given) * 20)}|${Math.floor(jaroWinkler(a.family, b.family) * 20)}|${yearRelation(a.date, b.date, false)}|${a.region === b.region}`,
  fine: (a: Person, b: Person) =>
    `${Math.floor(jaroWinkler(a.given, b.given) * 50)}|${Math.floor(jaroWinkler(a.family, b.family) * 50)}|${yearRelation(a.date, b.date, true)}|${a.region === b.region}|${a.given === b.given}|${a.family === b.family}|${a.given[0] === b.given[0]}|${a.spelling === b.spelling}`,
};

/** Counts [true, all] per profile, over the blocks whose index has the given parity. */
function count(profile: (a: Person, b: Person) => string, parity: 0 | 1): { byProfile: Map<string, [number, number]>; pairs: number; truePairs: number } {
  const byProfile = new Map<string, [number, number]>();
  let pairs = 0;
  let found = 0;
  let index = 0;
  for (const block of blocks.values()) {
    index += 1;
    if (index % 2 !== parity) continue;
    for (let i = 0; i < block.length; i += 1) {
      for (let j = i + 1; j < block.length; j += 1) {
        const a = block[i]!;
        const b = block[j]!;
        const isTrue = a.entity === b.entity;
        const key = profile(a, b);
        const counts = byProfile.get(key) ?? [0, 0];
        counts[0] += Number(isTrue);
        counts[1] += 1;
        byProfile.set(key, counts);
        pairs += 1;
        found += Number(isTrue);
      }
    }
  }
  return { byProfile, pairs, truePairs: found };
}

/** Best F1 linking profiles in order of `purity` (learnt), counted on `measured`. */
function bestF1(purity: Map<string, [number, number]>, measured: Map<string, [number, number]>, allTrue: number): { f1: number; precision: number; recall: number } {
  const order = [...measured.keys()].sort((x, y) => {
    const [tx, nx] = purity.get(x) ?? [0, 1];
    const [ty, ny] = purity.get(y) ?? [0, 1];
    return ty / ny - tx / nx;
  });
  let tp = 0;
  let linked = 0;
  let best = { f1: 0, precision: 0, recall: 0 };
  for (const key of order) {
    const [t, n] = measured.get(key)!;
    tp += t;
    linked += n;
    const precision = tp / linked;
    const recall = tp / allTrue;
    const f1 = tp ? (2 * precision * recall) / (precision + recall) : 0;
    if (f1 > best.f1) best = { f1, precision, recall };
  }
  return best;
}

/** Both halves' counts together: every block's pairs once. */
function merged(a: Map<string, [number, number]>, b: Map<string, [number, number]>): Map<string, [number, number]> {
  const all = new Map(a);
  for (const [key, [t, n]] of b) {
    const [ta, na] = all.get(key) ?? [0, 0];
    all.set(key, [ta + t, na + n]);
  }
  return all;
}

const started = performance.now();
for (const [name, profile] of Object.entries(profiles)) {
  // Each pair is counted once, in its half; the whole is the two halves together.
  const even = count(profile, 0);
  const odd = count(profile, 1);
  if (name === 'coarse') {
    console.log(
      `bench:separability ${people.length.toLocaleString('en')} records, ${truePairs.toLocaleString('en')} true pairs; ${(even.truePairs + odd.truePairs).toLocaleString('en')} of them share country and birth day and month, ` +
        `among ${(even.pairs + odd.pairs).toLocaleString('en')} pairs that do`,
    );
  }
  const byProfile = merged(even.byProfile, odd.byProfile);
  const inSample = bestF1(byProfile, byProfile, truePairs);
  const heldOut = bestF1(even.byProfile, odd.byProfile, odd.truePairs);
  const heldOutOther = bestF1(odd.byProfile, even.byProfile, even.truePairs);
  const f = (x: { f1: number; precision: number; recall: number }) => `F1 ${x.f1.toFixed(3)} (precision ${x.precision.toFixed(3)}, recall ${x.recall.toFixed(3)})`;
  console.log(`bench:separability ${name} profile (${byProfile.size.toLocaleString('en')} profiles): best in-sample ${f(inSample)}; held out ${f(heldOut)} and ${f(heldOutOther)}`);
}
console.log(`bench:separability ${((performance.now() - started) / 1000).toFixed(0)} s`);
