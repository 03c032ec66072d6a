/** cx eval's arithmetic: pairs with equal ids count, linkage keeps sides apart, the curve is one pass. */
import { describe, expect, it } from 'vitest';
import { evaluatePairs, idPairs, parsePairsCsv, precisionRecallCurve } from '../../src/match/evaluate.js';

describe('evaluating pairs', () => {
  it('counts a pair whose two ids are equal: two files may share an id space', () => {
    const truth: [string, string][] = [['1', '1'], ['2', '2'], ['3', '4']];
    const found: [string, string][] = [['1', '1'], ['2', '2'], ['3', '4'], ['5', '6']];
    expect(evaluatePairs(found, truth)).toMatchObject({ truePositives: 3, found: 4, truePairs: 3, recall: 1, precision: 0.75 });
  });

  it('keeps left and right apart for a linkage, and ignores order for a dedupe', () => {
    const truth: [string, string][] = [['a', 'b']];
    expect(evaluatePairs([['b', 'a']], truth).truePositives).toBe(1);
    expect(evaluatePairs([['b', 'a']], truth, { ordered: true }).truePositives).toBe(0);
  });

  it('draws the curve in one pass, agreeing with an evaluation at each threshold', () => {
    const scored = Array.from({ length: 2000 }, (_, i) => ({ leftId: `l${i}`, rightId: `r${i % 1500}`, probability: (i % 100) / 100 }));
    const truth: [string, string][] = Array.from({ length: 1200 }, (_, i) => [`l${i * 2}`, `r${(i * 2) % 1500}`]);
    const curve = precisionRecallCurve(scored, truth, [0.9, 0.5, 0.1]);
    expect(curve.map((p) => p.threshold)).toEqual([0.9, 0.5, 0.1]);
    for (const point of curve) {
      const direct = evaluatePairs(scored.filter((s) => s.probability >= point.threshold).map((s) => [s.leftId, s.rightId] as [string, string]), truth);
      expect(point).toMatchObject(direct);
    }
  });

  it('reads pairs files with a header, quoted ids and an optional probability', () => {
    const pairs = parsePairsCsv('left_id,right_id,probability\n"a,1",b,0.93\nc , d ,\n');
    expect(pairs).toHaveLength(2);
    expect(pairs[0]).toEqual({ leftId: 'a,1', rightId: 'b', probability: 0.93 });
    expect(pairs[1]!.probability).toBeNaN();
    expect(idPairs(parsePairsCsv('rec-1-org, rec-1-dup-0\n'))).toEqual([['rec-1-org', 'rec-1-dup-0']]);
  });
});
