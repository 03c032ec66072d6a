import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listMigrations, migrate, pendingMigrations } from '../../src/store/migrate.js';
import type { Database } from '../../src/store/database.js';
import { createEmptyDatabase, engineUnderTest } from '../helpers/database.js';

describe(`migrations on ${engineUnderTest}`, () => {
  let db: Database;
  beforeAll(async () => {
    db = await createEmptyDatabase();
  });
  afterAll(() => db.close());

  it('applies every migration to an empty database, in order', async () => {
    expect(await pendingMigrations(db)).toEqual(listMigrations().map((m) => m.name));
    const applied = await migrate(db);
    expect(applied).toEqual(listMigrations().map((m) => m.name));
    const rows = await db.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
    expect(rows.map((r) => r.version)).toEqual(listMigrations().map((m) => m.version));
    expect(await pendingMigrations(db)).toEqual([]);
  });

  it('is a no-op when run again, also concurrently', async () => {
    const [first, second] = await Promise.all([migrate(db), migrate(db)]);
    expect(first).toEqual([]);
    expect(second).toEqual([]);
    const [row] = await db.query<{ count: number }>('SELECT count(*) AS count FROM schema_migrations');
    expect(row!.count).toBe(listMigrations().length);
  });

  it('loads the fuzzy-matching extensions', async () => {
    const [row] = await db.query<{ sim: number; code: string; lev: number }>(
      "SELECT similarity('smith', 'smyth') AS sim, dmetaphone('Smith') AS code, levenshtein('kitten', 'sitting') AS lev",
    );
    expect(row!.sim).toBeGreaterThan(0.2);
    expect(row!.code).toBe('SM0');
    expect(row!.lev).toBe(3);
  });

  it('makes audit_events append-only', async () => {
    await db.query(
      `INSERT INTO audit_events (actor_type, action, target_type, outcome) VALUES ('system', 'test.insert', 'test', 'success')`,
    );
    await expect(db.query(`UPDATE audit_events SET outcome = 'failure'`)).rejects.toThrow(/append-only/);
    await expect(db.query(`DELETE FROM audit_events`)).rejects.toThrow(/append-only/);
    const rows = await db.query<{ outcome: string }>('SELECT outcome FROM audit_events');
    expect(rows).toEqual([{ outcome: 'success' }]);
  });

  it('answers with the same JavaScript types on both engines', async () => {
    const [row] = await db.query<Record<string, unknown>>(
      `SELECT 5::int8 AS big, '1980-01-02'::date AS day, 1.50::numeric AS amount, '{"a":1}'::jsonb AS doc, now() AS at`,
    );
    expect(row).toMatchObject({ big: 5, day: '1980-01-02', amount: '1.50', doc: { a: 1 } });
    expect(row!.at).toBeInstanceOf(Date);
  });

  it('rolls a transaction back whole when it fails', async () => {
    await expect(
      db.transaction(async (tx) => {
        await tx.query(`INSERT INTO partners (slug, name) VALUES ('rollback-me', 'x')`);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await db.query(`SELECT 1 FROM partners WHERE slug = 'rollback-me'`)).toEqual([]);
  });
});
