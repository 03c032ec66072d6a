import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyLine, type Database } from '../../src/store/database.js';
import { createEmptyDatabase, engineUnderTest } from '../helpers/database.js';

describe(`bulk loading with COPY on ${engineUnderTest}`, () => {
  let db: Database;
  beforeAll(async () => {
    db = await createEmptyDatabase();
  });
  afterAll(() => db.close());

  it('brings every value back as it went in: escapes, null against empty, JSON, arrays', async () => {
    const values: [number, string | null, string | null, string][] = [
      [1, 'plain', JSON.stringify({ name: 'O"Brien', note: 'line\nbreak', path: 'C:\\dir' }), '{}'],
      [2, 'tab\there, cr\rhere, newline\nhere', null, '{"a b","c\\\\d","e\\"f"}'],
      [3, '', '{"empty":""}', '{"x\ty"}'],
      [4, null, '"\\\\."', '{}'],
      [5, '\\.', '{"zh":"张伟","emoji":"🙂"}', '{"张"}'],
    ];
    await db.transaction(async (tx) => {
      await tx.exec('CREATE TEMP TABLE copied (n integer, t text, j jsonb, a text[]) ON COMMIT DROP');
      await tx.copyRows('copied', ['n', 't', 'j', 'a'], `${values.map((v) => copyLine(v)).join('\n')}\n`);
      const rows = await tx.query<{ n: number; t: string | null; j: unknown; a: string[] }>('SELECT n, t, j, a FROM copied ORDER BY n');
      expect(rows.map((r) => r.t)).toEqual(values.map((v) => v[1]));
      expect(rows.map((r) => r.j)).toEqual(values.map((v) => (v[2] === null ? null : JSON.parse(v[2]))));
      expect(rows.map((r) => r.a)).toEqual([[], ['a b', 'c\\d', 'e"f'], ['x\ty'], [], ['张']]);
    });
  });
});
