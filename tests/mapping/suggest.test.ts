/** `cx mappings suggest`: a draft mapping from a header and a sample, that validates and maps the file. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { parseMapping } from '../../src/mapping/load.js';
import { decodeHead } from '../../src/mapping/readers.js';
import { suggestFromText } from '../../src/mapping/suggest.js';
import { runCx, cliTimeout } from '../helpers/cli.js';
import { mapAll, sharedData } from '../helpers/mapping.js';

const targets = (text: string) => {
  const { mapping, columns } = suggestFromText('draft', text);
  return { mapping, byColumn: Object.fromEntries(columns.map((c) => [c.column, c.target])) };
};

/** Drafts a mapping, checks it validates, and maps the whole file with it. */
async function draftAndMap(bytes: Buffer) {
  const { mapping } = suggestFromText('draft', decodeHead(bytes));
  const valid = parseMapping(JSON.parse(JSON.stringify(mapping)));
  const { records, report } = await mapAll(valid, bytes);
  return { mapping: valid, records, report };
}

describe('mappings drafted from a file', cliTimeout, () => {
  it('a HubSpot default export, a Salesforce API-name export and a bank export in UTF-8', async () => {
    const hubspot = 'Record ID,First Name,Last Name,Email,Phone Number,Contact owner,Primary Associated Company ID,Last Activity Date,Lead Status,Create Date,Additional email addresses,Associated Company\n101,Ann,Lee,ann.lee@example.com,(415) 555-0132,Sam,9001,2024-05-01 12:00,OPEN,2023-01-02 09:30,,Acme\n';
    expect(targets(hubspot).byColumn).toMatchObject({ 'Record ID': 'source.recordId', 'First Name': 'name.given', 'Last Name': 'name.family', Email: 'emails[primary].address', 'Phone Number': 'phones[main].number' });
    const salesforce = 'Id,FirstName,LastName,Email,MobilePhone,MailingCity,MailingPostalCode\n0035g00000AbCd1,John,Smith,john@example.com,+1 415 555 0199,San Francisco,94105\n';
    expect(targets(salesforce).byColumn).toMatchObject({ Id: 'source.recordId', FirstName: 'name.given', LastName: 'name.family', Email: 'emails[primary].address', MobilePhone: 'phones[main].number' });
    for (const fixture of [hubspot, salesforce]) {
      const drafted = await draftAndMap(Buffer.from(fixture));
      expect(drafted.report.rejected).toBe(0);
      expect(drafted.records).toHaveLength(1);
      expect(drafted.records[0]!.emails?.[0]?.address).toMatch(/@example\.com$/);
    }
    const bank = '客户编号,客户姓名,证件类型,证件号码,出生日期,客户性别,联系电话,电子邮件,居住地址\nK1,张伟,0,110101198001020013,1980-01-02,1,13812345678,zw@example.cn,北京市东城区1号\n';
    const drafted = await draftAndMap(Buffer.from(bank));
    expect(drafted.report.rejected).toBe(0);
    expect(drafted.records[0]).toMatchObject({
      source: { recordId: 'K1' }, name: { full: '张伟', family: '张', given: '伟' }, gender: 'male', birthDate: '1980-01-02',
      phones: [{ number: '+8613812345678' }], emails: [{ address: 'zw@example.cn' }], identifiers: [{ scheme: 'national_id', value: '110101198001020013' }],
    });
    // What it could not place is said, for the partner to decide.
    expect(drafted.mapping.$comment).toMatch(/unmatched columns: 证件类型/);
    expect(drafted.mapping.rules.every((r) => r.value !== undefined || (r.confidence ?? 1) >= 0.6)).toBe(true);
  });

  it('the shared benchmark files: every row mapped with its id and name', async () => {
    for (const [file, expected] of [
      ['febrl/dataset1.csv', { given: 'name.given', surname: 'name.family', date_of_birth: 'birthDate', soc_sec_id: 'identifiers[id].value' }],
      ['splink/fake_1000.csv', { first_name: 'name.given', surname: 'name.family', dob: 'birthDate', email: 'emails[primary].address' }],
      ['other/RLdata500.csv', { fname_c1: 'name.given', lname_c1: 'name.family', rec_id: 'source.recordId' }],
      ['other/foreigners.csv', { fname: 'name.given', surname: 'name.family', id: 'source.recordId' }],
    ] as const) {
      const bytes = readFileSync(`${sharedData}${file}`);
      const { byColumn } = targets(decodeHead(bytes));
      for (const [column, target] of Object.entries(expected)) {
        const key = Object.keys(byColumn).find((c) => c === column || (column === 'given' && c === 'given_name'))!;
        expect(byColumn[key], `${file} ${column}`).toBe(target);
      }
      const { records, report } = await draftAndMap(bytes);
      expect(report.rejected, file).toBe(0);
      expect(records.length, file).toBe(report.records);
      expect(records.every((r) => r.source.recordId), file).toBe(true);
      expect(records.filter((r) => r.name?.given || r.name?.family || r.name?.full).length / records.length, file).toBeGreaterThan(0.9);
    }
  }, 60_000);

  it('cx mappings suggest writes a mapping that cx map then uses, from a GBK file too', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cx-suggest-'));
    const input = join(dir, 'bank-export.csv');
    writeFileSync(input, iconv.encode('客户号,客户姓名,手机号码\nC1,张伟,13812345678\nC2,李娜,13987654321\n', 'gb18030'));
    const out = join(dir, 'draft.json');
    const suggested = await runCx(['mappings', 'suggest', input, '--out', out], {});
    expect(suggested.code).toBe(0);
    expect(suggested.stderr).toMatch(/手机号码\s+phones\[main\]\.number \(1\)/);
    expect(JSON.parse(readFileSync(out, 'utf8'))).toMatchObject({ name: 'bank-export', source: { recordId: '客户号' } });
    const mapped = await runCx(['map', '--mapping', out, input], {});
    expect(mapped.code).toBe(0);
    expect(mapped.stdout.trim().split('\n').map((l) => JSON.parse(l).phones[0].number)).toEqual(['+8613812345678', '+8613987654321']);
  }, 30_000);
});

describe('POST /v1/mappings/suggest', cliTimeout, () => {
  it('drafts a mapping from the first rows a partner sends, in GBK too; other callers are refused', async () => {
    const { createTestExchange } = await import('../helpers/app.js');
    const ex = await createTestExchange();
    try {
      const acme = await ex.addPartner('acme');
      const body = iconv.encode('客户号,客户姓名,手机号码,出生日期\nC1,张伟,13812345678,1980年1月2日\n', 'gb18030');
      const response = await ex.request('/v1/mappings/suggest?name=acme-core', { method: 'POST', key: acme.key, headers: { 'content-type': 'text/csv' }, body });
      expect(response.status).toBe(200);
      const draft = (await response.json()) as { mapping: Record<string, unknown>; columns: { column: string; target: string | null }[] };
      expect(draft.mapping).toMatchObject({ name: 'acme-core', source: { recordId: '客户号', defaultCountry: 'CN' } });
      expect(draft.columns.map((c) => c.target)).toEqual(['source.recordId', 'name.full', 'phones[main].number', 'birthDate']);
      expect(() => parseMapping(draft.mapping)).not.toThrow();
      expect((await ex.request('/v1/mappings/suggest', { method: 'POST', headers: { 'content-type': 'text/csv' }, body: 'a,b\n' })).status).toBe(401);
      expect((await ex.request('/v1/mappings/suggest', { method: 'POST', key: acme.key, headers: { 'content-type': 'text/csv' }, body: '' })).status).toBe(400);
    } finally {
      await ex.close();
    }
  });
});
