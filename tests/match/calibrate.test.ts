import { describe, expect, it } from 'vitest';
import { calibrate, priorRule } from '../../src/match/calibrate.js';
import { comparatorFor, defaultModel } from '../../src/match/model.js';

const model = defaultModel();
const comparator = comparatorFor(model);
const at = (name: string) => comparator.comparisons.findIndex((c) => c.name === name);
const level = (name: string, label: string) => comparator.comparisons[at(name)]!.levels.indexOf(label);

/** A vector: every comparison missing (0) but those given, by comparison and level name. */
function vector(levels: Record<string, string>): Uint8Array {
  const v = new Uint8Array(comparator.comparisons.length);
  for (const [name, label] of Object.entries(levels)) v[at(name)] = level(name, label);
  return v;
}

/** Random-pair counts: each comparison present in `present` of `pairs`, all at "different" but `exactShare` exact. */
function randomCounts(pairs: number, present: Record<string, number>, exactShare: Record<string, number> = {}): number[][] {
  return comparator.comparisons.map((c) => {
    const row = new Array<number>(c.levels.length).fill(0);
    const here = Math.round(pairs * (present[c.name] ?? 0));
    const exact = Math.round(here * (exactShare[c.name] ?? 0));
    row[0] = pairs - here;
    row[1] = exact;
    row[c.levels.length - 1]! += here - exact;
    return row;
  });
}

const sameDateAndNames = vector({ birth_date: 'exact', given_name: 'exact', family_name: 'jaro_winkler_0.92' });
const sameDateOnly = vector({ birth_date: 'exact', given_name: 'different', family_name: 'different' });
const allPresent = { birth_date: 1, given_name: 1, family_name: 1 };

describe('fitting a model to the data of a run', () => {
  it('counts the prior from the pairs sharing a birth date and names, over the share of true pairs that do', () => {
    const rule = priorRule(comparator)!;
    expect(rule.map(({ index, levels }) => [comparator.comparisons[index]!.name, [...levels].map((l) => comparator.comparisons[index]!.levels[l])])).toEqual([
      ['birth_date', ['exact']],
      ['given_name', ['exact', 'nickname', 'jaro_winkler_0.92']],
      ['family_name', ['exact', 'jaro_winkler_0.92']],
    ]);
    const candidates = [...Array(300).fill(sameDateAndNames), ...Array(5000).fill(sameDateOnly)];
    const { model: fitted, calibration } = calibrate(model, randomCounts(20_000, allPresent), candidates, 1e9);
    const m = (name: string, labels: string[]) => labels.reduce((sum, label) => sum + model.comparisons[name]![label]!.m, 0);
    const recall = m('birth_date', ['exact']) * m('given_name', ['exact', 'nickname', 'jaro_winkler_0.92']) * m('family_name', ['exact', 'jaro_winkler_0.92']);
    expect(calibration.prior.rulePairs).toBe(300);
    expect(calibration.prior.ruleRecall).toBeCloseTo(recall, 4);
    expect(fitted.prior).toBeCloseTo(300 / recall / 1e9, 12);
    expect(calibration.prior).toMatchObject({ model: model.prior, estimated: fitted.prior });
    // The m and u the model came with stay as they were.
    expect(fitted.comparisons).toEqual(model.comparisons);
  });

  it('counts only true pairs that have the fields: half the records without a birth date, twice the prior', () => {
    const candidates = Array(300).fill(sameDateAndNames);
    const full = calibrate(model, randomCounts(20_000, allPresent), candidates, 1e9).model.prior;
    const half = calibrate(model, randomCounts(20_000, { ...allPresent, birth_date: 0.5 }), candidates, 1e9).model.prior;
    expect(half / full).toBeCloseTo(2, 3);
  });

  it("keeps the model's prior when too few pairs agree on the rule, or the model cannot say it", () => {
    const few = calibrate(model, randomCounts(20_000, allPresent), [sameDateAndNames, sameDateAndNames, sameDateOnly], 1e6);
    expect(few.model.prior).toBe(model.prior);
    expect(few.calibration.prior).toMatchObject({ estimated: null, rulePairs: 2 });
    const { birth_date: _dates, ...withoutDates } = model.comparisons;
    expect(priorRule(comparatorFor({ ...model, comparisons: withoutDates }))).toBeUndefined();
  });

  it('weighs nothing for a field that barely varies, and says so', () => {
    const { model: fitted, calibration } = calibrate(model, randomCounts(20_000, { ...allPresent, region: 1 }, { region: 0.99 }), [], 1e6);
    expect(calibration.constantFields).toEqual(['region']);
    expect(Object.values(fitted.comparisons.region!).every(({ m, u }) => m === u)).toBe(true);
  });
});
