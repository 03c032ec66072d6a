import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCx, cliTimeout } from '../helpers/cli.js';
import { samples, sharedData } from '../helpers/mapping.js';

describe('cx map and cx mappings', cliTimeout, () => {
  const dir = mkdtempSync(join(tmpdir(), 'cx-map-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('maps every FEBRL row, writes NDJSON and a report, exits 0', async () => {
    const out = join(dir, 'febrl.ndjson');
    const report = join(dir, 'febrl.json');
    const result = await runCx(['map', '--mapping', 'febrl', `${sharedData}febrl/dataset1.csv`, '--out', out, '--report', report], {});
    expect(result.stderr).toMatch(/^mapped 1000 rows with febrl: 1000 accepted, 0 rejected/);
    expect(result.code).toBe(0);
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(1000);
    expect(JSON.parse(lines[0]!)).toMatchObject({ standardVersion: '1.1.0', source: { recordId: 'rec-223-org' } });
    expect(JSON.parse(readFileSync(report, 'utf8'))).toMatchObject({ rows: 1000, accepted: 1000, rejected: 0 });
  });

  it('exits 2 when some rows were rejected, with the merged records on stdout', async () => {
    const result = await runCx(['map', '-m', 'salesforce-contacts', `${samples}salesforce-contacts.csv`], {});
    expect(result.code).toBe(2);
    const records = result.stdout.trim().split('\n').map((l) => JSON.parse(l) as { source: { recordId: string }; phones?: unknown[] });
    expect(records.map((r) => r.source.recordId)).toEqual(['0035g00000AbCd1', '0035g00000AbCd2', '0035g00000AbCd3']);
    expect(records[0]!.phones).toHaveLength(3);
    expect(result.stderr).toMatch(/1 rejected, 1 merged by source id/);
  });

  it('reads standard input', async () => {
    const result = await runCx(['map', '-m', 'hubspot-contacts', '-'], {}, readFileSync(`${samples}hubspot-contacts.csv`, 'utf8'));
    expect(result.code).toBe(0);
    expect(result.stdout.trim().split('\n')).toHaveLength(3);
  });

  it('--strict fails on the first error with one line', async () => {
    const result = await runCx(['map', '-m', 'salesforce-contacts', '--strict', `${samples}salesforce-contacts.csv`], {});
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe('cx: --strict: row 3: birthDate (column Birthdate): an impossible date; its year and month kept [value: 02/30/1990]');
  });

  it('exits 1 with one line when the input or the mapping is unusable', async () => {
    const badCsv = join(dir, 'bad.csv');
    writeFileSync(badCsv, 'rec_id, given_name\n"rec-1, x\n');
    const cases: [string[], RegExp][] = [
      [['map', '-m', 'no-such', badCsv], /^cx: no mapping "no-such"/],
      [['map', '-m', 'febrl', join(dir, 'missing.csv')], /^cx: no such input file/],
      [['map', '-m', 'febrl', badCsv], /^cx: a quoted field is never closed/],
      // The GBK export is read as GB18030 (detected), and then does not fit HubSpot's columns.
      [['map', '-m', 'hubspot-contacts', `${samples}cn-bank-customers.csv`], /^cx: the mapping hubspot-contacts does not fit this file/],
    ];
    for (const [args, message] of cases) {
      const result = await runCx(args, {});
      expect(result.code, args.join(' ')).toBe(1);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).toMatch(message);
    }
  });

  it('validates mappings without data and lists the shipped ones', async () => {
    const bad = join(dir, 'bad-mapping.json');
    writeFileSync(bad, JSON.stringify({ name: 'bad', source: { format: 'csv', recordId: 'id' }, rules: [{ target: 'name.nick', from: 'x' }] }));
    const refused = await runCx(['mappings', 'validate', bad], {});
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/\/rules\/0\/target: unknown canonical field "name\.nick"/);
    const ok = await runCx(['mappings', 'validate', 'mappings/febrl.json'], {});
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/valid mapping "febrl"/);
    const list = await runCx(['mappings', 'list'], {});
    const shipped = ['cn-bank-customers', 'febrl', 'foreigners', 'hubspot-contacts', 'retail-loyalty', 'rldata500', 'salesforce-contacts', 'splink-fake-1000', 'zoho-contacts'];
    expect(list.stdout.split('\n').filter(Boolean).map((line) => line.split(' ')[0])).toEqual(['name', ...shipped]);
    const listed = JSON.parse((await runCx(['mappings', 'list', '--json'], {})).stdout) as { name: string; format: string }[];
    expect(listed.map((m) => m.name)).toEqual(shipped);
    expect(listed.find((m) => m.name === 'febrl')).toMatchObject({ format: 'csv' });
  });
});
