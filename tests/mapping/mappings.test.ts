import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { loadMapping, MappingError, parseMapping } from '../../src/mapping/load.js';
import { InputError } from '../../src/mapping/readers.js';
import { mapInput, StrictModeError } from '../../src/mapping/run.js';
import { customerRecordSchema } from '../../src/standard/customer.js';
import { mapAll, samples, sharedData, testMapping } from '../helpers/mapping.js';

describe('shipped mappings on their samples', () => {
  it('salesforce-contacts: phones, addresses, consents, ext; bad values dropped, a row without a surname rejected; same id merged', async () => {
    const { records, report } = await mapAll('salesforce-contacts', { file: `${samples}salesforce-contacts.csv` });
    expect(report).toMatchObject({ rows: 5, accepted: 4, rejected: 1, records: 3 });
    expect(report.duplicates.sameSourceId).toBe(1);
    const john = records.find((r) => r.source.recordId === '0035g00000AbCd1')!;
    // The later row (April) updated the title and added a home phone; the work phone stays.
    expect(john).toMatchObject({
      source: { updatedAt: '2024-04-01T09:30:00.000Z' },
      name: { given: 'John', middle: 'A.', family: 'Smith' },
      birthDate: '1975-04-23',
      gender: 'male',
      emails: [{ address: 'john.smith@example.com', type: 'work' }],
      demographics: { occupation: 'SVP Sales' },
      addresses: [{ lines: ['1 Market St', 'Suite 300'], locality: 'San Francisco', region: 'CA', postcode: '94105', country: 'US' }],
    });
    expect(john.phones?.map((p) => p.number)).toEqual(['+14155550132', '+14155550199', '+14155550100']);
    const maria = records.find((r) => r.source.recordId === '0035g00000AbCd2')!;
    expect(maria).toMatchObject({ name: { given: 'María', family: 'García-López' }, addresses: [{ country: 'ES' }], consents: [{ purpose: 'marketing', status: 'withdrawn' }] });
    expect(report.issues).toEqual(
      expect.arrayContaining([
        { row: 3, sourceId: '0035g00000AbCd3', column: 'Birthdate', value: '02/30/1990', field: 'birthDate', reason: 'an impossible date; its year and month kept', severity: 'partial' },
        { row: 4, sourceId: '0035g00000AbCd4', column: 'LastName', value: null, field: 'name.family', reason: 'required but empty', severity: 'rejected' },
      ]),
    );
    expect(report.fields['birthDate']).toEqual({ filled: 4, empty: 1, invalid: 0 });
  });

  it('hubspot-contacts', async () => {
    const { records, report } = await mapAll('hubspot-contacts', { file: `${samples}hubspot-contacts.csv` });
    expect(report).toMatchObject({ rows: 3, accepted: 3, rejected: 0, issueCount: 0 });
    expect(records[0]).toMatchObject({ source: { recordId: '51' }, birthDate: '1967-01-05', behaviour: { visitCount: 12 }, consents: [{ status: 'granted' }], ext: { hubspot: { lifecycleStage: 'customer' } } });
    expect(records[2]).toMatchObject({ phones: [{ number: '+4930123456' }], addresses: [{ country: 'DE', postcode: '10117' }] });
  });

  it('zoho-contacts', async () => {
    const { records, report } = await mapAll('zoho-contacts', { file: `${samples}zoho-contacts.csv` });
    expect(report).toMatchObject({ rows: 3, accepted: 3, issueCount: 0 });
    expect(records[0]).toMatchObject({ gender: 'female', phones: [{ number: '+912223456789' }, { number: '+919876543210' }] });
    expect(records[1]!.emails).toHaveLength(2);
    expect(records[2]).toMatchObject({ addresses: [{ country: 'KR' }], phones: [{ number: '+821012345678' }] });
  });

  it('cn-bank-customers reads GBK with Chinese headers', async () => {
    const { records, report } = await mapAll('cn-bank-customers', { file: `${samples}cn-bank-customers.csv` });
    expect(report).toMatchObject({ rows: 5, accepted: 4, rejected: 1 });
    expect(records[0]).toMatchObject({
      name: { full: '张伟', family: '张', given: '伟' },
      birthDate: '1980-01-02',
      gender: 'male',
      phones: [{ number: '+8613812345678', type: 'mobile' }],
      identifiers: [{ scheme: 'national_id', value: '110101198001020013', issuer: 'CN' }],
      demographics: { occupation: '工程师', educationLevel: 'bachelor', maritalStatus: 'married', monthlyIncome: { amount: 25000, currency: 'CNY' } },
      ext: { 'cn-bank': { branch: '北京东城支行' } },
    });
    expect(records[1]).toMatchObject({ name: { family: '欧阳', given: '娜娜' }, birthDate: '1992-03-15' });
    expect(records[2]).toMatchObject({ identifiers: [{ scheme: 'passport' }], demographics: { educationLevel: 'doctorate', maritalStatus: 'divorced' } });
    expect(report.issues.find((i) => i.row === 4)).toMatchObject({ field: 'birthDate', value: '1990年2月30日', reason: 'an impossible date; its year and month kept', severity: 'partial' });
  });

  it('retail-loyalty carries behaviour and value indicators', async () => {
    const { records, report } = await mapAll('retail-loyalty', { file: `${samples}retail-loyalty.csv` });
    expect(report).toMatchObject({ rows: 3, accepted: 3, issueCount: 0 });
    expect(records[0]).toMatchObject({
      phones: [{ number: '+447911123456' }],
      identifiers: [{ scheme: 'loyalty_id', value: '633900123456' }],
      behaviour: { visitCount: 48, visitDurationSeconds: 86400, channels: ['store', 'web'] },
      value: { totalSpend: { amount: 3456.78, currency: 'GBP' }, lastThreeMonthsSpend: { amount: 310.5, currency: 'GBP' }, firstPurchaseDate: '2016-06-03' },
      consents: [{ purpose: 'marketing', status: 'granted', lawfulBasis: 'consent' }],
    });
    expect(records[1]!.behaviour?.channels).toEqual(['mobile_app']);
  });

  it('every record of every sample is a valid canonical record', async () => {
    for (const name of ['salesforce-contacts', 'hubspot-contacts', 'zoho-contacts', 'cn-bank-customers', 'retail-loyalty']) {
      const { records } = await mapAll(name, { file: `${samples}${name}.csv` });
      for (const record of records) expect(customerRecordSchema.safeParse(record).success).toBe(true);
    }
  });
});

describe('the benchmark data maps without a rejected row', () => {
  it.each(['dataset1', 'dataset2', 'dataset3'])('FEBRL %s', async (name) => {
    const { records, report } = await mapAll('febrl', { file: `${sharedData}febrl/${name}.csv` });
    const lines = readFileSync(`${sharedData}febrl/${name}.csv`, 'utf8').trim().split('\n').length - 1;
    expect(report.rows).toBe(lines);
    expect(report.rejected).toBe(0);
    expect(records).toHaveLength(lines);
    // The only issues are the impossible birth dates FEBRL corrupts on purpose: their year (and month) kept, reported.
    expect(report.issues.every((i) => i.field === 'birthDate' && i.reason.startsWith('an impossible date; its year') && i.severity === 'partial')).toBe(true);
  });

  it('FEBRL fields land where they belong', async () => {
    const { records } = await mapAll('febrl', { file: `${sharedData}febrl/dataset1.csv` });
    expect(records.find((r) => r.source.recordId === 'rec-122-org')).toMatchObject({
      name: { given: 'Lachlan', family: 'Berry' },
      birthDate: '1999-02-19',
      addresses: [{ lines: ['69 giblin street', 'killarney'], locality: 'Bittern', postcode: '4814', region: 'QLD', country: 'AU' }],
      identifiers: [{ scheme: 'social_security', value: '7364009', issuer: 'AU' }],
    });
  });

  it('Splink fake_1000', async () => {
    const { records, report } = await mapAll('splink-fake-1000', { file: `${sharedData}splink/fake_1000.csv` });
    expect(report).toMatchObject({ rows: 1000, accepted: 1000, rejected: 0 });
    expect(records[0]).toMatchObject({ source: { recordId: '0' }, name: { given: 'Robert', family: 'Alan' }, birthDate: '1971-06-24', emails: [{ address: 'robert255@smith.net' }], ext: { splink: { cluster: '0' } } });
    // Same person, same details, different source ids: flagged, not merged.
    expect(report.duplicates.sameIdentity).toBeGreaterThan(0);
    expect(report.duplicates.flagged[0]).toMatchObject({ kind: 'same_identity' });
  });
});

describe('mistakes in a mapping are refused when it loads, with their path', () => {
  it('an unknown transform', () => {
    expect(() => testMapping([{ target: 'name.given', from: 'a', transforms: ['trim', 'frobnicate'] }])).toThrow(
      /\/rules\/0\/transforms\/1: unknown transform; known transforms: trim, case/,
    );
  });
  it('an unknown canonical field', () => {
    expect(() => testMapping([{ target: 'name.nickname', from: 'a' }])).toThrow(/\/rules\/0\/target: unknown canonical field "name.nickname"/);
  });
  it('a wrong parameter', () => {
    expect(() => testMapping([{ target: 'gender', from: 'a', transforms: [{ op: 'vocabulary', list: 'colours' }] }])).toThrow(/\/rules\/0\/transforms\/0\/list/);
  });
  it('a column the file does not have: skipped and reported as absent, unless the rule or the record id requires it', async () => {
    const optional = testMapping([{ target: 'name.given', from: 'first_name' }, { target: 'name.family', from: 'family' }]);
    const { records, report } = await mapAll(optional, 'id,family\n1,Lee\n2,\n');
    expect(records.map((r) => r.name)).toEqual([{ family: 'Lee' }, undefined]);
    expect(report.absentColumns).toEqual(['first_name']);
    // Absent is not empty: the completeness report says which.
    expect(report.fields['name.given']).toEqual({ filled: 0, empty: 0, invalid: 0, absent: true });
    expect(report.fields['name.family']).toEqual({ filled: 1, empty: 1, invalid: 0 });
    const required = testMapping([{ target: 'name.given', from: 'first_name', required: true }]);
    await expect(mapAll(required, 'id,given\n1,Ann\n')).rejects.toThrow(/does not fit this file.*\/rules\/0: column "first_name" is not in the file, and the rule is required/);
    const requiredByTransform = testMapping([{ target: 'name.given', from: 'first_name', transforms: ['required'] }]);
    await expect(mapAll(requiredByTransform, 'id,given\n1,Ann\n')).rejects.toThrow(/the rule is required/);
    await expect(mapAll(optional, 'key,family\n1,Lee\n')).rejects.toThrow(/\/source\/recordId: column "id" is not in the file/);
  });

  it('column alternatives: the first name the file has is read', async () => {
    const mapping = testMapping([{ target: 'phones[m].number', from: { anyOf: ['手机号码', '联系电话', '手机'] }, transforms: [{ op: 'phone', country: 'CN' }] }]);
    for (const column of ['手机号码', '联系电话', '手机']) {
      const { records, report } = await mapAll(mapping, `id,${column}\n1,13912345678\n`);
      expect(records[0]!.phones, column).toEqual([{ number: '+8613912345678' }]);
      expect(report.absentColumns).toBeUndefined();
    }
    const both = await mapAll(mapping, 'id,联系电话,手机号码\n1,13800000000,13912345678\n');
    expect(both.records[0]!.phones).toEqual([{ number: '+8613912345678' }]);
    const none = await mapAll(mapping, 'id,other\n1,x\n');
    expect(none.report.absentColumns).toEqual(['手机号码|联系电话|手机']);
  });
  it('a shipped mapping that does not exist, or a name that climbs out of mappings/', () => {
    expect(() => loadMapping('no-such-mapping')).toThrow(MappingError);
    expect(() => loadMapping('../package')).toThrow(/no mapping "\.\.\/package"/);
  });
  it('a mapping file at any path, spaces included', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cx mapping '));
    const file = join(dir, 'my mapping.json');
    writeFileSync(file, readFileSync(`${samples}../febrl.json`));
    expect(loadMapping(file).name).toBe('febrl');
    rmSync(dir, { recursive: true, force: true });
  });
  it('every shipped mapping loads', () => {
    for (const name of ['febrl', 'splink-fake-1000', 'salesforce-contacts', 'hubspot-contacts', 'zoho-contacts', 'cn-bank-customers', 'retail-loyalty']) {
      expect(loadMapping(name).name).toBe(name);
    }
  });
  it('parses a mapping given as JSON', () => {
    expect(() => parseMapping({ name: 'x' })).toThrow(/source: .*rules: /);
  });
});

describe('bad inputs get a readable error', () => {
  const mapping = testMapping([{ target: 'name.given', from: 'name' }]);
  it('a wrong delimiter', async () => {
    await expect(mapAll(mapping, 'id;name\n1;Ann\n')).rejects.toThrow(/The header is one column "id;name": is the delimiter right/);
  });
  it('an unterminated quote', async () => {
    await expect(mapAll(mapping, 'id,name\n1,"Ann\n2,Bob\n')).rejects.toThrow(InputError);
    await expect(mapAll(mapping, 'id,name\n1,"Ann\n2,Bob\n')).rejects.toThrow(/a quoted field is never closed/);
  });
  it('invalid UTF-8: stated, refused naming the line; undeclared, neither UTF-8 nor GB18030, refused naming the line', async () => {
    const bytes = Buffer.concat([Buffer.from('id,name\n1,'), Buffer.from([0xc3, 0x28]), Buffer.from('\n')]);
    const stated = parseMapping({ ...mapping, source: { ...mapping.source, encoding: 'utf-8' } });
    await expect(mapAll(stated, bytes)).rejects.toThrow(/not valid UTF-8 at line 2; .*gb18030/);
    await expect(mapAll(mapping, bytes)).rejects.toThrow(/not valid GB18030 at line 2/);
  });
  it('invalid UTF-8 in NDJSON', async () => {
    const ndjson = parseMapping({ name: 'nd', source: { format: 'ndjson', recordId: 'id', encoding: 'utf-8' }, rules: [{ target: 'name.given', from: 'n' }] });
    const bytes = Buffer.concat([Buffer.from('{"id":1,"n":"A"}\n{"id":2,"n":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}\n')]);
    await expect(mapAll(ndjson, bytes)).rejects.toThrow(/not valid UTF-8/);
  });
  it('a 10 MB field', async () => {
    await expect(mapAll(mapping, `id,name\n1,${'x'.repeat(10 * 1024 * 1024)}\n`)).rejects.toThrow(/larger than 1048576 bytes/);
  });
  it('a row with the wrong number of fields is rejected and the others go on', async () => {
    const { records, report } = await mapAll(mapping, 'id,name\n1,Ann\n2,Bob,extra\n3,Cy\n');
    expect(records.map((r) => r.source.recordId)).toEqual(['1', '3']);
    expect(report.issues[0]).toMatchObject({ row: 2, severity: 'rejected', reason: 'line 3 has 3 fields where the header has 2' });
  });
  it('an impossible date is refused, the row kept', async () => {
    const dated = testMapping([{ target: 'birthDate', from: 'dob', transforms: ['date'] }]);
    const { records, report } = await mapAll(dated, 'id,dob\n1,1990-02-30\n');
    expect(records[0]!.birthDate).toBeUndefined();
    expect(report.issues[0]).toMatchObject({ field: 'birthDate', reason: 'an impossible date', value: '1990-02-30' });
  });
  it('a missing record id rejects the row', async () => {
    const { report } = await mapAll(mapping, 'id,name\n,Ann\n');
    expect(report).toMatchObject({ accepted: 0, rejected: 1 });
    expect(report.issues[0]).toMatchObject({ field: 'source.recordId', reason: 'required but empty' });
  });
  it('strict mode stops at the first error', async () => {
    const dated = testMapping([{ target: 'birthDate', from: 'dob', transforms: ['date'] }]);
    await expect(mapAll(dated, 'id,dob\n1,1990-01-01\n2,1990-02-30\n', { strict: true })).rejects.toThrow(StrictModeError);
    await expect(mapAll(dated, 'id,dob\n1,1990-01-01\n2,1990-02-30\n', { strict: true })).rejects.toThrow('row 2: birthDate (column dob): an impossible date');
  });
  it('values are truncated in the report', async () => {
    const dated = testMapping([{ target: 'birthDate', from: 'dob', transforms: ['date'] }]);
    const { report } = await mapAll(dated, `id,dob\n1,${'9'.repeat(500)}\n`);
    expect(report.issues[0]!.value).toHaveLength(101);
  });
});

describe('NDJSON and JSON sources', () => {
  it('reads dotted paths from NDJSON and reports lines that are not JSON', async () => {
    const mapping = parseMapping({
      name: 'nd',
      source: { format: 'ndjson', recordId: 'id' },
      rules: [
        { target: 'name.given', from: 'name.first' },
        { target: 'emails[x].address', from: 'contact.emails.0', transforms: ['email'] },
      ],
    });
    const { records, report } = await mapAll(mapping, '{"id":1,"name":{"first":"Ann"},"contact":{"emails":["A@B.com"]}}\nnot json\n{"id":"2","name":{"first":"Bo"}}\n');
    expect(records).toMatchObject([{ source: { recordId: '1' }, name: { given: 'Ann' }, emails: [{ address: 'a@b.com' }] }, { source: { recordId: '2' } }]);
    expect(report.issues[0]).toMatchObject({ row: 2, severity: 'rejected', reason: expect.stringMatching(/^line 2 is not JSON/) });
  });
  it('reads an array of records from a JSON document', async () => {
    const mapping = parseMapping({ name: 'js', source: { format: 'json', recordId: 'id', recordsPath: 'data.customers' }, rules: [{ target: 'name.given', from: 'first' }] });
    const { records } = await mapAll(mapping, JSON.stringify({ data: { customers: [{ id: 'a', first: 'Ann' }, { id: 'b', first: 'Bo' }] } }));
    expect(records.map((r) => r.name?.given)).toEqual(['Ann', 'Bo']);
  });
  it('streams a JSON array: each record is mapped before the rest of the document arrives', async () => {
    const mapping = parseMapping({ name: 'js', source: { format: 'json', recordId: 'id' }, rules: [{ target: 'name.given', from: 'first' }] });
    let firstMapped!: () => void;
    const mappedFirst = new Promise<void>((resolve) => (firstMapped = resolve));
    async function* document() {
      yield Buffer.from('[{"id":"a","first":"Ann"},');
      // The rest only comes once the first record is through: a reader that waited for the whole document would hang.
      await mappedFirst;
      yield Buffer.from('{"id":"b","first":"Bö"}, 7]');
    }
    const seen: string[] = [];
    const report = await mapInput({
      input: Readable.from(document()),
      mapping,
      onRecord: (record) => {
        seen.push(record.name!.given!);
        firstMapped();
      },
    });
    expect(seen).toEqual(['Ann', 'Bö']);
    expect(report).toMatchObject({ rows: 3, accepted: 2, rejected: 1 });
    expect(report.issues[0]).toMatchObject({ row: 3, reason: 'record 3 is not an object' });
  });
  it.each([
    ['an object where the array should be', {}, '{"id":"a"}', /^expected an array of records$/],
    ['an object at the records path', { recordsPath: 'data' }, '{"data":{"x":{"id":"a"}}}', /expected an array of records at "data", found an object/],
    ['nothing at the records path', { recordsPath: 'data' }, '{"other":[]}', /found no records at "data"/],
    ['a document cut off', {}, '[{"id":"a"},{"id":', /the input is not JSON/],
    ['text after the document', {}, '[{"id":"a"}] [', /the input is not JSON/],
    ['a record over the row limit', {}, `[{"id":"a","first":"${'x'.repeat(2 * 1024 * 1024)}"}]`, /record 1 is larger than 1048576 bytes/],
  ])('a JSON source with %s gets a readable error', async (_name, source, text, message) => {
    const mapping = parseMapping({ name: 'js', source: { format: 'json', recordId: 'id', ...source }, rules: [{ target: 'name.given', from: 'first' }] });
    await expect(mapAll(mapping, text)).rejects.toThrow(InputError);
    await expect(mapAll(mapping, text)).rejects.toThrow(message);
  });
});
