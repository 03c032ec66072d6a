/**
 * Exports as partners really have them: only the columns their system exports, named its way, in
 * its encoding. Fixtures are headers from such exports with rows made up here (no real person).
 */
import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mapAll, testMapping } from '../helpers/mapping.js';

const bankHeader = '客户编号,客户姓名,证件类型,证件号码,出生日期,客户性别,婚姻状况,教育程度,客户职业,联系电话,电子邮件,居住状态,居住地址';
const bankRows = [
  'K000001,张伟,0,110101198001020013,1980-01-02,1,20,本科,工程师,13812345678,zhang.wei@example.cn,自有,北京市东城区东华门街道1号',
  'K000002,欧阳娜娜,0,310104199203150028,19920315,2,10,20,教师,13987654321,,租住,上海市徐汇区漕溪北路2号',
];
const bankCsv = `${[bankHeader, ...bankRows].join('\n')}\n`;

describe('a bank export in UTF-8 with other header names and coded values', () => {
  const expectBankRecords = async (bytes: Buffer) => {
    const { records, report } = await mapAll('cn-bank-customers', bytes);
    expect(report.rejected).toBe(0);
    expect(records).toHaveLength(2);
    expect(records[0]).toMatchObject({
      source: { recordId: 'K000001' },
      name: { full: '张伟', family: '张', given: '伟' },
      gender: 'male',
      birthDate: '1980-01-02',
      identifiers: [{ scheme: 'national_id', value: '110101198001020013' }],
      phones: [{ number: '+8613812345678', type: 'mobile' }],
      emails: [{ address: 'zhang.wei@example.cn' }],
      demographics: { maritalStatus: 'married', educationLevel: 'bachelor', occupation: '工程师' },
    });
    expect(records[1]).toMatchObject({ gender: 'female', demographics: { maritalStatus: 'single', educationLevel: 'bachelor' } });
    // Columns this export does not have are reported as absent, not refused.
    expect(report.absentColumns).toEqual(expect.arrayContaining(['邮政编码|邮编', '月收入|个人月收入']));
    return records;
  };

  it('UTF-8 without a BOM, with a BOM, and the same file in GB18030 map alike', async () => {
    const plain = await expectBankRecords(Buffer.from(bankCsv, 'utf8'));
    const bom = await expectBankRecords(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(bankCsv, 'utf8')]));
    const gb = await expectBankRecords(iconv.encode(bankCsv, 'gb18030'));
    expect(bom).toEqual(plain);
    expect(gb).toEqual(plain);
  });

  it('a long ASCII start does not fool the detection: GB18030 bytes after it are still read', async () => {
    // Over 64 KiB of ASCII first, so the file arrives in several chunks before its first Chinese byte.
    const ascii = Array.from({ length: 4000 }, (_, i) => `A${i},Zhang Wei`).join('\n');
    const file = join(mkdtempSync(join(tmpdir(), 'cx-enc-')), 'late.csv');
    writeFileSync(file, Buffer.concat([Buffer.from(`id,name\n${ascii}\n`), iconv.encode('B1,欧阳娜娜\n', 'gb18030')]));
    const { records } = await mapAll(testMapping([{ target: 'name.full', from: 'name' }]), { file });
    expect(records).toHaveLength(4001);
    expect(records.at(-1)).toMatchObject({ source: { recordId: 'B1' }, name: { full: '欧阳娜娜' } });
  });

  it('a stated encoding that the bytes do not fit is refused, naming the line', async () => {
    const { loadMapping } = await import('../../src/mapping/load.js');
    const mapping = loadMapping('cn-bank-customers');
    const stated = { ...mapping, source: { ...mapping.source, encoding: 'utf-8' as const } };
    await expect(mapAll(stated, iconv.encode(bankCsv, 'gb18030'))).rejects.toThrow(/not valid UTF-8 at line 1; .*gb18030/);
  });
});

describe('CRM exports with only the columns their tools export by default', () => {
  it('a HubSpot "all contacts" export (its twelve default columns)', async () => {
    const csv = [
      'Record ID,First Name,Last Name,Email,Phone Number,Contact owner,Primary Associated Company ID,Last Activity Date,Lead Status,Create Date,Additional email addresses,Associated Company',
      '101,Ann,Lee,ann.lee@example.com,(415) 555-0132,Sam Seller,9001,2024-05-01 12:00,OPEN,2023-01-02 09:30,ann@example.org;al@example.net,Acme',
      '102,Bob,Ray,,,,,,,2023-02-03 10:00,,',
    ].join('\n');
    const { records, report } = await mapAll('hubspot-contacts', csv);
    expect(report.rejected).toBe(0);
    expect(records[0]).toMatchObject({
      source: { recordId: '101' },
      name: { given: 'Ann', family: 'Lee' },
      emails: [{ address: 'ann.lee@example.com' }, { address: 'ann@example.org', type: 'other' }],
      phones: [{ number: '+14155550132', type: 'work' }],
      behaviour: { lastActivityAt: '2024-05-01T12:00:00.000Z' },
      ext: { hubspot: { leadStatus: 'OPEN', company: 'Acme', companyId: '9001' } },
    });
    expect(records[1]).toMatchObject({ source: { recordId: '102' }, name: { given: 'Bob', family: 'Ray' } });
    expect(report.absentColumns).toEqual(expect.arrayContaining(['Date of birth|date_of_birth|Birthdate', 'Mobile Phone Number|mobilephone', 'City|city']));
    expect(report.fields.birthDate).toMatchObject({ absent: true });
    expect(report.fields['name.given']).toMatchObject({ filled: 2 });
  });

  it('Salesforce Contact exports: API names with a BOM and no MiddleName or opt-out, and report labels', async () => {
    const apiNames = '\ufeffId,FirstName,LastName,Email,Phone,MailingStreet,MailingCity,MailingState,MailingPostalCode,MailingCountry,AccountId,LastModifiedDate\n' +
      '0035g00000AbCd1,John,Smith,john.smith@example.com,(415) 555-0132,1 Market St,San Francisco,CA,94105,US,0015g000001,2024-03-01T09:30:00.000Z\n';
    const api = await mapAll('salesforce-contacts', apiNames);
    expect(api.report.rejected).toBe(0);
    expect(api.records[0]).toMatchObject({ source: { recordId: '0035g00000AbCd1' }, name: { given: 'John', family: 'Smith' }, addresses: [{ locality: 'San Francisco', postcode: '94105', country: 'US' }] });
    expect(api.report.absentColumns).toEqual(expect.arrayContaining(['MiddleName|Middle Name', 'HasOptedOutOfEmail|Email Opt Out']));
    const labels = 'Contact ID,First Name,Last Name,Email,Business Phone,Mailing City,Mailing Zip/Postal Code,Mailing Country\n0035g00000AbCd2,Jane,Doe,jane@example.com,(212) 555-0100,New York,10001,US\n';
    const byLabel = await mapAll('salesforce-contacts', labels);
    expect(byLabel.records[0]).toMatchObject({ source: { recordId: '0035g00000AbCd2' }, name: { family: 'Doe' }, phones: [{ number: '+12125550100' }], addresses: [{ locality: 'New York', postcode: '10001' }] });
    // The record id and the last name are required: without them the file is refused.
    await expect(mapAll('salesforce-contacts', 'Id,FirstName\n1,Ann\n')).rejects.toThrow(/column "LastName", "Last Name" is not in the file, and the rule is required|LastName/);
  });

  it('a Zoho export with API names', async () => {
    const csv = 'Id,First_Name,Last_Name,Email,Mobile,Mailing_City,Modified_Time\n4876876000000123,Priya,Sharma,priya@example.in,98765 43210,Pune,2024-05-01 12:00\n';
    const { records, report } = await mapAll('zoho-contacts', csv);
    expect(report.rejected).toBe(0);
    expect(records[0]).toMatchObject({ source: { recordId: '4876876000000123', updatedAt: '2024-05-01T12:00:00.000Z' }, name: { given: 'Priya', family: 'Sharma' }, phones: [{ number: '+919876543210', type: 'mobile' }], addresses: [{ locality: 'Pune' }] });
  });

  it('every shipped adapter maps a file that lacks each optional column in turn', async () => {
    const { loadMapping } = await import('../../src/mapping/load.js');
    const { readFileSync, readdirSync } = await import('node:fs');
    const { parse } = await import('csv-parse/sync');
    const { stringify } = await import('csv-stringify/sync');
    const iconvLite = (await import('iconv-lite')).default;
    for (const file of readdirSync('mappings/samples').filter((f) => f.endsWith('.csv'))) {
      const name = file.replace(/\.csv$/, '');
      const mapping = loadMapping(name);
      const raw = readFileSync(`mappings/samples/${file}`);
      const text = name === 'cn-bank-customers' ? iconvLite.decode(raw, 'gb18030') : raw.toString('utf8');
      const rows = parse(text, { bom: true, relax_column_count: true, delimiter: mapping.source.delimiter, quote: mapping.source.quote }) as string[][];
      const header = rows[0]!;
      const required = new Set([mapping.source.recordId, ...mapping.rules.filter((r) => r.required || r.transforms.some((t) => t.op === 'required')).map((r) => r.from)].flatMap((f) => (f === undefined ? [] : typeof f === 'string' ? [f] : Array.isArray(f) ? f : f.anyOf)));
      for (let drop = 0; drop < header.length; drop += 1) {
        if (required.has(header[drop]!)) continue;
        const without = stringify(rows.map((row) => row.filter((_, i) => i !== drop)), { delimiter: mapping.source.delimiter });
        const { records, report } = await mapAll(mapping, without);
        expect(records.length, `${name} without ${header[drop]}`).toBeGreaterThan(0);
        expect(report.absentColumns?.some((c) => c.split('|').includes(header[drop]!)), `${name} without ${header[drop]}`).toBe(true);
      }
    }
  }, 60_000);
});
