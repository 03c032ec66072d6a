/** Phones move scores, and are validated by the full metadata. */
import { describe, expect, it } from 'vitest';
import { prepare } from '../../src/match/features.js';
import { comparatorFor, defaultModel, defaultThresholds, scorePair } from '../../src/match/model.js';
import { trainModel } from '../../src/match/train.js';
import { normalisePhone } from '../../src/standard/normalise/index.js';
import { STANDARD_VERSION, type CustomerRecord } from '../../src/standard/customer.js';

const { comparisons, compare: compareRecords } = comparatorFor(defaultModel());
const person = (id: string, fields: Omit<CustomerRecord, 'standardVersion' | 'source'>): CustomerRecord => ({ standardVersion: STANDARD_VERSION, source: { recordId: id }, ...fields });

describe('phones in the model', () => {
  it('a shared phone raises the match probability; a different one lowers it', () => {
    const model = defaultModel();
    const a = person('a', { name: { given: 'Ann', family: 'Lee' }, phones: [{ number: '+14155550132' }] });
    const same = person('b', { name: { given: 'Ann', family: 'Lee' }, phones: [{ number: '+14155550132' }] });
    const last7 = person('c', { name: { given: 'Ann', family: 'Lee' }, phones: [{ number: '+16505550132' }] });
    const other = person('d', { name: { given: 'Ann', family: 'Lee' }, phones: [{ number: '+12125559876' }] });
    const none = person('e', { name: { given: 'Ann', family: 'Lee' } });
    const p = (b: CustomerRecord) => scorePair(model, prepare(a), prepare(b)).probability;
    expect(p(same)).toBeGreaterThan(p(none));
    expect(p(last7)).toBeGreaterThan(p(none));
    expect(p(other)).toBeLessThan(p(none));
    for (const [label, { m, u }] of Object.entries(model.comparisons.phone!)) expect(m, label).not.toBe(u);
  });

  it('training on data without phones keeps the starting model\'s phone levels and says so', () => {
    const phone = comparisons.findIndex((c) => c.name === 'phone');
    const records = [
      person('1', { name: { given: 'Ann', family: 'Lee' }, birthDate: '1980-01-02' }),
      person('2', { name: { given: 'Ann', family: 'Lee' }, birthDate: '1980-01-02' }),
      person('3', { name: { given: 'Bob', family: 'Ray' }, birthDate: '1975-05-06' }),
      person('4', { name: { given: 'Rob', family: 'Ray' }, birthDate: '1975-05-06' }),
    ].map(prepare);
    const vectors = [compareRecords(records[0]!, records[1]!), compareRecords(records[2]!, records[3]!), compareRecords(records[0]!, records[2]!)];
    expect(vectors.every((v) => v[phone] === 0)).toBe(true);
    const uCounts = comparisons.map((c, i) => c.levels.map((_, level) => vectors.filter((v) => v[i] === level).length + (level === c.levels.length - 1 ? 100 : 0)));
    uCounts[phone] = comparisons[phone]!.levels.map(() => 0);
    const start = defaultModel();
    const { model } = trainModel(vectors, uCounts, { thresholds: defaultThresholds, termFrequency: start.termFrequency, comparisons: start.comparisons });
    expect(model.comparisons.phone).toEqual(start.comparisons.phone);
    expect(model.trainedOn).toMatchObject({ notTrained: ['phone'] });
  });
});

describe('phone validation', () => {
  it('refuses numbers the full metadata knows are not valid, though their length fits', () => {
    expect(() => normalisePhone('+8658043161332')).toThrow();
    expect(normalisePhone('+86 139 1234 5678')).toBe('+8613912345678');
    expect(normalisePhone('(415) 555-0132', 'US')).toBe('+14155550132');
  });
});
