import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readOfflineFile } from '../../src/cli/offline-files.js';
import { createWorkspace, type Workspace } from '../../src/cli/workspace.js';
import { blockRecords, trigramSimilarity } from '../../src/match/block.js';
import { defaultBlocking } from '../../src/match/blocking.js';
import { idPairsOf, pairCount, pairListOf, type PairList } from '../../src/match/pairs.js';
import { selectCandidatePairs, selectPairsAgreeingOn, withCandidatePairs } from '../../src/store/candidates.js';
import type { Queryable } from '../../src/store/database.js';
import { createTestDatabase, engineUnderTest } from '../helpers/database.js';
import { sharedData } from '../helpers/mapping.js';

const unordered = (list: PairList) => idPairsOf(list).map((p) => [p.leftId, p.rightId].sort().join(' ')).sort();
const ordered = (list: PairList) => idPairsOf(list).map((p) => `${p.leftId} ${p.rightId}`).sort();

/** The offline tools block in memory what the service blocks in SQL: the same rule set must give the same pairs and report. */
describe(`blocking in memory against blocking in SQL on ${engineUnderTest}`, () => {
  let workspace: Workspace;
  beforeAll(async () => {
    workspace = await createWorkspace(await createTestDatabase());
  });
  afterAll(() => workspace.close());

  it.each([
    ['FEBRL dataset1', `${sharedData}febrl/dataset1.csv`, 'febrl'],
    ['fake_1000', `${sharedData}splink/fake_1000.csv`, 'splink-fake-1000'],
    ['RLdata500', `${sharedData}other/RLdata500.csv`, 'rldata500'],
  ])('deduplicating %s: the same candidate pairs, rule sizes, refinements and recall', async (_, file, mapping) => {
    const stored = await workspace.load(file, mapping, mapping);
    const sql = await selectCandidatePairs(workspace.db, stored, stored, { blocking: defaultBlocking() });
    const records = (await readOfflineFile(file, mapping)).blocking;
    const memory = await blockRecords(records, records, defaultBlocking());
    expect(pairCount(memory.pairs)).toBeGreaterThan(100);
    expect(unordered(memory.pairs)).toEqual(unordered(sql.pairs));
    expect(memory.blocking).toEqual(sql.blocking);
    // Each pair once, never a record with itself.
    expect(new Set(unordered(memory.pairs)).size).toBe(pairCount(memory.pairs));
    expect(idPairsOf(memory.pairs).every((p) => p.leftId < p.rightId)).toBe(true);
  });

  it('linking two files (FEBRL dataset3, originals against duplicates), with a small budget that refines rules', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cx-block-'));
    const [header, ...rows] = readFileSync(`${sharedData}febrl/dataset3.csv`, 'utf8').split('\n').filter(Boolean);
    writeFileSync(join(dir, 'org.csv'), [header, ...rows.filter((r) => r.includes('-org,'))].join('\n'));
    writeFileSync(join(dir, 'dup.csv'), [header, ...rows.filter((r) => r.includes('-dup-'))].join('\n'));
    // A budget of 4,000 pairs makes the larger rules refine, some twice.
    const blocking = { ...defaultBlocking(), minPairs: 4000, pairsPerRecord: 0.5 };
    const [left, right] = [await workspace.load(join(dir, 'org.csv'), 'febrl', 'org'), await workspace.load(join(dir, 'dup.csv'), 'febrl', 'dup')];
    const sql = await selectCandidatePairs(workspace.db, left, right, { blocking });
    const memory = await blockRecords((await readOfflineFile(join(dir, 'org.csv'), 'febrl')).blocking, (await readOfflineFile(join(dir, 'dup.csv'), 'febrl')).blocking, blocking);
    expect(memory.blocking.rules.some((rule) => rule.refinedBy)).toBe(true);
    expect(ordered(memory.pairs)).toEqual(ordered(sql.pairs));
    expect(memory.blocking).toEqual(sql.blocking);
    // A linkage larger than one statement should carry asks for its pairs in ranges of left records: the same pairs.
    const inParts = await selectCandidatePairs(workspace.db, left, right, { blocking, estimateRecall: false, pairsPerStatement: 1000 });
    expect(pairCount(sql.pairs)).toBeGreaterThan(3000);
    expect(ordered(inParts.pairs)).toEqual(ordered(sql.pairs));
  });

  it('leaves out of a training pass the values more than 20 records share (a placeholder birth date)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cx-block-'));
    const rows = [
      ...Array.from({ length: 25 }, (_, i) => `p${i},Given${i},Family${i},1988-01-01,,,`),
      'a1,Rustam,Aliyev,1990-05-05,,,',
      'a2,Rustam,Aliev,1990-05-05,,,',
      'a3,Leyla,Mammadova,1975-11-30,,,',
    ];
    writeFileSync(join(dir, 'people.csv'), ['unique_id,first_name,surname,dob,city,email,cluster', ...rows].join('\n'));
    const stored = await workspace.load(join(dir, 'people.csv'), 'splink-fake-1000', 'placeholder-dates');
    expect(unordered(pairListOf(await selectPairsAgreeingOn(workspace.db, stored, stored, 'birth_date')))).toEqual(['a1 a2']);
  });

  it('gives a pair several rules bring together (a date, an email, its local part) once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cx-block-'));
    const rows = ['e1,Anna,Berg,1980-02-03,,anna@x.org,', 'e2,Ann,Berg,1980-02-03,,anna@x.org,', 'e3,Zed,Quo,,,anna@y.org,', 'e4,Olga,Nil,1999-09-09,,olga@z.org,'];
    const file = join(dir, 'people.csv');
    writeFileSync(file, ['unique_id,first_name,surname,dob,city,email,cluster', ...rows].join('\n'));
    const stored = await workspace.load(file, 'splink-fake-1000', 'several-rules');
    const sql = await selectCandidatePairs(workspace.db, stored, stored, { blocking: defaultBlocking() });
    expect(unordered(sql.pairs)).toEqual(['e1 e2', 'e1 e3', 'e2 e3']);
    const records = (await readOfflineFile(file, 'splink-fake-1000')).blocking;
    expect(unordered((await blockRecords(records, records, defaultBlocking())).pairs)).toEqual(unordered(sql.pairs));
  });

  it('switches JIT off while a linkage blocks and scores, and leaves its connection as it found it', async () => {
    const stored = await workspace.load(`${sharedData}other/RLdata500.csv`, 'rldata500', 'jit');
    const jit = async (db: Queryable) => (await db.query<{ jit: string }>('SHOW jit'))[0]!.jit;
    // In one transaction, so that every statement runs on the one connection whose setting is read.
    await workspace.db.transaction(async (tx) => {
      const before = await jit(tx);
      const { result } = await withCandidatePairs(tx, stored, stored, {}, async (pairs) => ({ pairs: pairCount(pairs), during: await jit(tx) }));
      expect(result.pairs).toBeGreaterThan(100);
      expect(result.during).toBe('off');
      expect(await jit(tx)).toBe(before);
    });
  });

  it("computes trigram similarity as pg_trgm's similarity()", async () => {
    const pairs = [['lachlan berry', 'lachlan bery'], ['jon smyth', 'john smith'], ['Zhang Wei', 'zhang wei'], ['o’brien', 'obrien'], ['a', 'b'], ['', 'x'], ['maharramov', 'maharramof']];
    for (const [a, b] of pairs) {
      const [row] = await workspace.db.query<{ s: number }>('SELECT similarity($1::text, $2::text)::float8 AS s', [a, b]);
      expect(trigramSimilarity(a!, b!)).toBeCloseTo(row!.s, 5);
    }
  });
});
