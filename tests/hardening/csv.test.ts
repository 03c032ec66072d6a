/** CSV in and out: a stray quote is not a 500, and downloads never carry a live formula. On both engines. */
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csvLines } from '../../src/api/csv.js';
import { createTestExchange, type TestExchange } from '../helpers/app.js';
import { engineUnderTest } from '../helpers/database.js';

type Json = Record<string, unknown>;
const header = 'Id,Salutation,FirstName,MiddleName,LastName,Title,Email,Phone,MobilePhone,HomePhone,Birthdate,MailingStreet,MailingCity,MailingState,MailingPostalCode,MailingCountry,HasOptedOutOfEmail,AccountId,LastModifiedDate';
const contact = (id: string, last: string, title = 'Buyer') => `${id},Mr.,John,,${last},${title},,,,,,,,,,,,,`;

describe(`CSV in and out on ${engineUnderTest}`, () => {
  let ex: TestExchange;
  let acme: { key: string };
  let datasetId: string;
  const upload = (body: string) =>
    ex.request(`/v1/datasets/${datasetId}/uploads`, { method: 'POST', key: acme.key, headers: { 'content-type': 'text/csv' }, body });

  beforeAll(async () => {
    ex = await createTestExchange({ UPLOAD_MAX_REJECTED_RATIO: '0.9' });
    acme = await ex.addPartner('acme');
    const created = await ex.request('/v1/datasets', { method: 'POST', key: acme.key, json: { name: 'sf', defaultMapping: 'salesforce-contacts' } });
    datasetId = ((await created.json()) as Json).id as string;
  });
  afterAll(() => ex.close());

  it('a quote inside an unquoted field is part of the field, not a 500', async () => {
    const response = await upload([header, contact('003A', 'Smith', '=HYPERLINK("x")'), contact('003B', 'O"Brien')].join('\n'));
    expect(response.status).toBe(201);
    expect(await response.json()).toMatchObject({ accepted: 2, rejected: 0 });
    const record = (await (await ex.request(`/v1/datasets/${datasetId}/records/003A`, { key: acme.key })).json()) as { record: Json };
    expect(record.record.demographics).toMatchObject({ occupation: '=HYPERLINK("x")' });
    expect(JSON.stringify(ex.logs)).not.toContain('HYPERLINK');
  });

  it('a CSV that cannot be read is a 400 naming the line, never the value', async () => {
    const response = await upload([header, contact('003C', 'Smith'), '003D,Mr.,"John', 'x,y'].join('\n'));
    expect(response.status).toBe(400);
    const problem = (await response.json()) as Json;
    expect(problem.detail).toMatch(/quoted field is never closed .*line 4/);
    expect(JSON.stringify(ex.logs.filter((l) => (l.level as number) >= 50))).toBe('[]');
  });

  it('rejected.csv neutralises formulas, comes as an attachment and parses back', async () => {
    const ids = [`=cmd|' /C calc'!A0`, '+1+1', '@SUM(A1:A2)', '-2+3', 'ok-id'];
    const response = await upload([header, contact('003E', 'Fine'), ...ids.map((id) => contact(`"${id.replaceAll('"', '""')}"`, ''))].join('\n'));
    const uploadId = ((await response.json()) as Json).id as string;
    const rejected = await ex.request(`/v1/datasets/${datasetId}/uploads/${uploadId}/rejected.csv`, { key: acme.key });
    expect(rejected.headers.get('content-disposition')).toMatch(/^attachment; filename="upload-.*-rejected\.csv"$/);
    const rows = parse(await rejected.text(), { columns: true }) as Json[];
    expect(rows.map((r) => r.source_id)).toEqual([`'=cmd|' /C calc'!A0`, "'+1+1", "'@SUM(A1:A2)", "'-2+3", 'ok-id']);
    expect(rows.every((r) => r.reason === 'required but empty')).toBe(true);
  });

  it('every cell a spreadsheet would evaluate is text; numbers stay numbers', () => {
    const text = csvLines([['=1+1', '\t=1', '\r=1', '+x', '-x', '@x', 'plain', -3.25, 'a,"b"']]);
    expect(parse(text)).toEqual([["'=1+1", "'\t=1", "'\r=1", "'+x", "'-x", "'@x", 'plain', '-3.25', 'a,"b"']]);
  });
});
