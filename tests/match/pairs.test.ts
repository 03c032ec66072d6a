import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { compareIds, distinctPairsOf, filterPairs, idPairsOf, pairListOf, slicePairs } from '../../src/match/pairs.js';

/** Couples of positions as the database's int4send gives them: big-endian, left then right. */
function sent(couples: [number, number][]): Uint8Array {
  const bytes = new Uint8Array(couples.length * 8);
  const view = new DataView(bytes.buffer);
  couples.forEach(([left, right], k) => {
    view.setInt32(k * 8, left);
    view.setInt32(k * 8 + 4, right);
  });
  return bytes;
}

describe('candidate pairs as positions', () => {
  it('keeps each pair the database sent once, by left then right, whatever repeats (property)', () => {
    const leftIds = ['a', 'b', 'c', 'd'];
    const rightIds = ['w', 'x', 'y', 'z', 'v'];
    const couple = fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 4 }));
    fc.assert(
      fc.property(fc.array(couple, { maxLength: 60 }), (couples) => {
        const list = distinctPairsOf(sent(couples), leftIds, rightIds);
        const expected = [...new Set(couples.map(([l, r]) => l * 10 + r))].sort((x, y) => x - y).map((code) => ({ leftId: leftIds[Math.floor(code / 10)]!, rightId: rightIds[code % 10]! }));
        expect(idPairsOf(list)).toEqual(expected);
      }),
      { seed: 3 },
    );
  });

  it('refuses positions outside their side and a truncated couple', () => {
    expect(() => distinctPairsOf(sent([[4, 0]]), ['a', 'b', 'c', 'd'], ['w'])).toThrow('outside');
    expect(() => distinctPairsOf(sent([[0, -1]]), ['a'], ['w'])).toThrow('outside');
    expect(() => distinctPairsOf(new Uint8Array(7), ['a'], ['w'])).toThrow('multiple of 8');
    expect(idPairsOf(distinctPairsOf(new Uint8Array(0), [], []))).toEqual([]);
  });

  it('lists pairs given by ids, slices and filters them on the same ids', () => {
    const list = pairListOf([
      { leftId: 'a', rightId: 'x' },
      { leftId: 'b', rightId: 'x' },
      { leftId: 'a', rightId: 'y' },
    ]);
    expect(list.leftIds).toEqual(['a', 'b']);
    expect(list.rightIds).toEqual(['x', 'y']);
    expect(idPairsOf(slicePairs(list, 1))).toEqual([
      { leftId: 'b', rightId: 'x' },
      { leftId: 'a', rightId: 'y' },
    ]);
    expect(idPairsOf(filterPairs(list, (left) => left === 0))).toEqual([
      { leftId: 'a', rightId: 'x' },
      { leftId: 'a', rightId: 'y' },
    ]);
    expect(filterPairs(list, () => true)).toBe(list);
  });
});

describe('ids in a stable order', () => {
  it('orders by code units, not by the locale (ties between equal weights break the same everywhere)', () => {
    const ids = ['b', 'a', 'B', 'é', 'A1', 'a10', 'a9'];
    expect([...ids].sort(compareIds)).toEqual(['A1', 'B', 'a', 'a10', 'a9', 'b', 'é']);
    // What localeCompare gave here, and not on every machine alike: upper and lower case interleaved.
    expect([...ids].sort((x, y) => x.localeCompare(y, 'en'))).not.toEqual([...ids].sort(compareIds));
    expect(compareIds('x', 'x')).toBe(0);
  });
});
