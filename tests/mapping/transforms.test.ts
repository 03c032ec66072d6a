import { describe, expect, it } from 'vitest';
import { parseMapping } from '../../src/mapping/load.js';
import { mapAll, testMapping } from '../helpers/mapping.js';

/** Maps one value through one rule and returns what landed in the record, or the issue. */
async function through(transforms: unknown[], value: string, target = 'demographics.occupation', source: Record<string, unknown> = {}) {
  const csv = `id,v\n1,"${value.replaceAll('"', '""')}"\n`;
  const { records, report } = await mapAll(testMapping([{ target, from: 'v', transforms }], source), csv);
  const path = target.replace(/\[[^\]]*\]/g, '.0').split('.');
  let node: unknown = records[0];
  for (const part of path) node = (node as Record<string, unknown> | undefined)?.[part];
  return { value: node, issue: report.issues[0], report };
}

describe('transforms', () => {
  it('trim collapses white space', async () => {
    expect((await through(['trim'], '  Senior   Engineer ')).value).toBe('Senior Engineer');
  });
  it('case converts to upper, lower and title', async () => {
    expect((await through([{ op: 'case', to: 'upper' }], 'abc')).value).toBe('ABC');
    expect((await through([{ op: 'case', to: 'lower' }], 'ABC')).value).toBe('abc');
    expect((await through([{ op: 'case', to: 'title' }], 'mary-anne smith')).value).toBe('Mary-Anne Smith');
  });
  it('nullIf empties placeholder values', async () => {
    const { value, report } = await through([{ op: 'nullIf', values: ['N/A', 'null'] }], 'n/a');
    expect(value).toBeUndefined();
    expect(report.fields['demographics.occupation']).toEqual({ filled: 0, empty: 1, invalid: 0 });
  });
  it('split makes a list or picks one part', async () => {
    expect((await through([{ op: 'split', separator: '|' }], 'store| web', 'behaviour.channels')).value).toEqual(['store', 'web']);
    expect((await through([{ op: 'split', separator: ' ', index: -1 }], 'Dr John Smith')).value).toBe('Smith');
  });
  it('concat joins several columns, skipping empty ones', async () => {
    const mapping = testMapping([{ target: 'name.full', from: ['a', 'b', 'c'], transforms: [{ op: 'concat', separator: ' ' }] }]);
    const { records } = await mapAll(mapping, 'id,a,b,c\n1,John,,Smith\n');
    expect(records[0]!.name?.full).toBe('John Smith');
  });
  it('regex extracts a group, and a value that does not match is invalid', async () => {
    expect((await through([{ op: 'regex', pattern: '^(\\d+)-' }], '42-abc')).value).toBe('42');
    const { issue } = await through([{ op: 'regex', pattern: '^(\\d+)-' }], 'abc');
    expect(issue).toMatchObject({ field: 'demographics.occupation', reason: 'does not match /^(\\d+)-/', severity: 'dropped', value: 'abc', column: 'v', row: 1 });
  });
  it('replace rewrites every match', async () => {
    expect((await through([{ op: 'replace', pattern: '\\s*/\\s*', with: ', ' }], 'a / b / c')).value).toBe('a, b, c');
  });
  it('date reads the formats it is given and refuses impossible dates', async () => {
    expect((await through([{ op: 'date', formats: ['MM/DD/YYYY'] }], '04/23/1975', 'birthDate')).value).toBe('1975-04-23');
    expect((await through(['date'], '04/03/1975', 'birthDate', { dateOrder: 'MDY' })).value).toBe('1975-04-03');
    expect((await through(['date'], '04/03/1975', 'birthDate')).value).toBe('1975-03-04');
    expect((await through(['date'], '1980年1月2日', 'birthDate')).value).toBe('1980-01-02');
    expect((await through(['date'], '1990-02-30', 'birthDate')).issue?.reason).toBe('an impossible date');
  });
  it('date with partial keeps the year and month of an impossible birth date, reported, in a 1.1 mapping only', async () => {
    const partial = [{ op: 'date', partial: true }];
    const kept = await mapAll(parseMapping({ name: 'test', standardVersion: '1.1.0', source: { format: 'csv', recordId: 'id' }, rules: [{ target: 'birthDate', from: 'v', transforms: partial }] }), 'id,v\n1,1990-02-30\n2,1985\n');
    expect(kept.records.map((r) => r.birthDate)).toEqual(['1990-02', '1985']);
    expect(kept.report.issues).toEqual([expect.objectContaining({ row: 1, field: 'birthDate', severity: 'partial', reason: 'an impossible date; its year and month kept' })]);
    expect(() => testMapping([{ target: 'birthDate', from: 'v', transforms: partial }])).toThrow(/partial dates need "standardVersion": "1.1.0" or later/);
  });
  it('timestamp reads instants', async () => {
    expect((await through(['timestamp'], '2024-03-01T09:30:00Z', 'source.updatedAt')).value).toBe('2024-03-01T09:30:00.000Z');
  });
  it('number and integer parse numbers', async () => {
    expect((await through(['number'], '1,234.5', 'behaviour.visitDurationSeconds')).value).toBe(1234.5);
    expect((await through([{ op: 'number', decimal: ',' }], '1.234,5', 'behaviour.visitDurationSeconds')).value).toBe(1234.5);
    expect((await through(['integer'], '42', 'behaviour.visitCount')).value).toBe(42);
    expect((await through(['integer'], '4.2', 'behaviour.visitCount')).issue?.reason).toBe('not a whole number');
  });
  it('money reads an amount and its currency', async () => {
    expect((await through(['money'], '€1,200.50', 'value.totalSpend')).value).toEqual({ amount: 1200.5, currency: 'EUR' });
    expect((await through([{ op: 'money', currency: 'CNY' }], '300', 'value.totalSpend')).value).toEqual({ amount: 300, currency: 'CNY' });
  });
  it('phone writes E.164 with the mapping\'s or the rule\'s country', async () => {
    expect((await through(['phone'], '138 1234 5678', 'phones[m].number', { defaultCountry: 'CN' })).value).toBe('+8613812345678');
    expect((await through([{ op: 'phone', country: 'GB' }], '020 7946 0018', 'phones[m].number')).value).toBe('+442079460018');
  });
  it('email, country, postcode and identifier normalise', async () => {
    expect((await through(['email'], 'A@B.COM', 'emails[x].address')).value).toBe('a@b.com');
    expect((await through(['country'], 'Deutschland', 'addresses[x].country')).value).toBe('DE');
    expect((await through([{ op: 'postcode', country: 'GB' }], 'ec1a1bb', 'addresses[x].postcode')).value).toBe('EC1A 1BB');
    expect((await through(['identifier'], ' ab-12 34 ', 'ext.test.id')).value).toBe('AB1234');
  });
  it('name takes one part of a full name', async () => {
    expect((await through([{ op: 'name', part: 'family' }], '欧阳娜娜', 'name.family')).value).toBe('欧阳');
    expect((await through([{ op: 'name', part: 'given' }], 'John Smith', 'name.given')).value).toBe('John');
  });
  it('lookup translates through a table', async () => {
    const table = { op: 'lookup', table: { M: 'male', F: 'female' } };
    expect((await through([table], 'f', 'gender')).value).toBe('female');
    expect((await through([table], 'X', 'gender')).issue?.reason).toBe('not in the lookup table');
    expect((await through([{ ...table, otherwise: 'empty' }], 'X', 'gender')).value).toBeUndefined();
  });
  it('vocabulary matches the code lists exactly, by synonym, and fuzzily above the minimum score', async () => {
    expect((await through([{ op: 'vocabulary', list: 'gender' }], 'Female', 'gender')).value).toBe('female');
    expect((await through([{ op: 'vocabulary', list: 'gender' }], '女', 'gender')).value).toBe('female');
    expect((await through([{ op: 'vocabulary', list: 'educationLevel' }], 'Bachelors', 'demographics.educationLevel')).value).toBe('bachelor');
    expect((await through([{ op: 'vocabulary', list: 'educationLevel', minScore: 0.5 }], 'masterz', 'demographics.educationLevel')).value).toBe('master');
    const refused = await through([{ op: 'vocabulary', list: 'gender', minScore: 0.9 }], 'zebra', 'gender');
    expect(refused.issue?.reason).toMatch(/^not a known gender/);
  });
  it('default fills only an empty value, and is the only way a value is invented', async () => {
    expect((await through([{ op: 'default', value: 'unknown' }], '', 'gender')).value).toBe('unknown');
    expect((await through([{ op: 'default', value: 'unknown' }], 'male', 'gender')).value).toBe('male');
    expect((await through(['trim'], '', 'gender')).value).toBeUndefined();
  });
  it('required rejects the row when empty', async () => {
    const { report } = await through(['required'], '', 'name.family');
    expect(report).toMatchObject({ rows: 1, accepted: 0, rejected: 1 });
    expect(report.issues[0]).toMatchObject({ reason: 'required but empty', severity: 'rejected', field: 'name.family' });
  });
  it('conditions decide whether a rule applies', async () => {
    const mapping = testMapping([
      { target: 'emails[w].address', from: 'contact', transforms: ['email'], when: { column: 'kind', equals: 'email' } },
      { target: 'phones[p].number', from: 'contact', transforms: ['phone'], when: { column: 'kind', in: ['phone', 'tel'] } },
    ], { defaultCountry: 'GB' });
    const { records, report } = await mapAll(mapping, 'id,kind,contact\n1,email,a@b.com\n2,tel,020 7946 0018\n');
    expect(records[0]).toMatchObject({ emails: [{ address: 'a@b.com' }] });
    expect(records[0]!.phones).toBeUndefined();
    expect(records[1]).toMatchObject({ phones: [{ number: '+442079460018' }] });
    expect(report.issueCount).toBe(0);
  });
});
