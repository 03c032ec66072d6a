import { describe, expect, it } from 'vitest';
import { FingerprintTable } from '../../src/mapping/fingerprints.js';

describe('FingerprintTable', () => {
  it('tells a string seen before, with the value it was first stored with, through many growths', () => {
    const table = new FingerprintTable(16);
    const ids = Array.from({ length: 200_000 }, (_, i) => `0035g${i.toString(36).padStart(8, '0')}`);
    ids.forEach((id, row) => expect(table.firstOrAdd(id, row)).toBeUndefined());
    expect(table.size).toBe(200_000);
    // Every id comes back with its first row, never a neighbour's; near-identical strings stay apart.
    for (let row = 0; row < ids.length; row += 997) expect(table.firstOrAdd(ids[row]!, -1)).toBe(row);
    expect(table.firstOrAdd('0035g00000000', 7)).toBe(0);
    expect(table.firstOrAdd('0035g0000000', 7)).toBeUndefined();
    expect(table.firstOrAdd('', 8)).toBeUndefined();
    expect(table.firstOrAdd('', 9)).toBe(8);
    expect(table.size).toBe(200_002);
  });

  it('keeps strings that differ only in characters beyond Latin-1 apart', () => {
    const table = new FingerprintTable();
    expect(table.firstOrAdd('客户001', 1)).toBeUndefined();
    expect(table.firstOrAdd('客戶001', 2)).toBeUndefined();
    expect(table.firstOrAdd('客户001', 3)).toBe(1);
  });
});
