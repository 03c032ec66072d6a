/**
 * The log end to end with the real binary: `cx serve` integrates and signs in the background and
 * drains on shutdown; `cx audit verify` passes on the untouched log and names the index of an
 * event edited in SQL; `cx audit verify-proof` checks a receipt offline. On both engines.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPglite } from '../../src/store/pglite.js';
import { openPostgres } from '../../src/store/postgres.js';
import { freshCliEnv, runCx, startCxServe, type CliEnv, cliTimeout } from '../helpers/cli.js';
import { engineUnderTest } from '../helpers/database.js';

describe(`cx audit on ${engineUnderTest}`, cliTimeout, () => {
  let cli: CliEnv;
  beforeAll(async () => {
    cli = await freshCliEnv();
  });
  afterAll(() => cli.cleanup());

  it('serve logs and signs every event; verify passes, then finds an edited event at its index', async () => {
    expect((await runCx(['partners', 'add', 'acme', '--name', 'Acme'], cli.env)).code).toBe(0);
    const key = (await runCx(['keys', 'create', '--partner', 'acme', '--name', 'etl'], cli.env)).stdout.trim();
    expect(key).toBeDefined();
    const server = await startCxServe({ ...cli.env, AUDIT_INTEGRATE_INTERVAL_MS: '50' });
    try {
      const created = await fetch(`${server.url}/v1/datasets`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'crm' }) });
      expect(created.status).toBe(201);
      let size = 0;
      for (let i = 0; i < 100 && size < 3; i += 1) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        const response = await fetch(`${server.url}/audit/checkpoint`);
        if (response.ok) size = Number((await response.text()).split('\n')[1]);
      }
      expect(size).toBeGreaterThanOrEqual(3); // partner, key, dataset
      const vkey = (await (await fetch(`${server.url}/.well-known/audit-log.vkey`)).text()).trim();
      const auth = { headers: { authorization: `Bearer ${key}` } };
      const events = (await (await fetch(`${server.url}/v1/audit/events?action=dataset.create`, auth)).json()) as { items: { logIndex: number }[] };
      const index = events.items[0]!.logIndex;
      const receipt = await (await fetch(`${server.url}/v1/audit/events/${index}/receipt`, auth)).text();
      const file = join(cli.dataDir, 'event.tlog-proof');
      writeFileSync(file, receipt);
      const checked = await runCx(['audit', 'verify-proof', file, '--vkey', vkey], cli.env);
      expect([checked.code, checked.stderr]).toEqual([0, '']);
      expect(checked.stdout).toMatch(new RegExp(`^ok: entry ${index} of \\d+, signed by customer-exchange\\.local/audit\n.*"action":"dataset\\.create"`));
      writeFileSync(file, receipt.replace(`index ${index}`, `index ${index - 1}`));
      const forged = await runCx(['audit', 'verify-proof', file, '--vkey', vkey], cli.env);
      expect([forged.code, forged.stderr.trim().split('\n')]).toEqual([1, [expect.stringMatching(new RegExp(`^cx: the receipt does not verify: the entry is not at index ${index - 1}`))]]);
      const refused = await fetch(`${server.url}/v1/datasets`, { headers: { authorization: `Bearer cx_${'B'.repeat(43)}` } });
      expect(refused.status).toBe(401);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
    const ok = await runCx(['audit', 'verify'], cli.env);
    expect([ok.code, ok.stdout]).toEqual([0, expect.stringMatching(/^ok: \d+ entries, \d+ signed checkpoints verified\n$/)]);

    const db = cli.env.DATABASE_URL ? await openPostgres(cli.env.DATABASE_URL) : await openPglite(join(cli.dataDir, 'pglite'));
    try {
      // The failed authentication was counted, written at shutdown, and logged before the database closed.
      const failures = await db.query<{ details: Record<string, unknown>; logged: boolean }>(
        `SELECT e.details, EXISTS (SELECT 1 FROM audit_log_entries l WHERE l.event_id = e.id) AS logged FROM audit_events e WHERE e.action = 'auth.fail'`,
      );
      expect(failures).toEqual([{ details: expect.objectContaining({ reason: 'invalid_key', keyId: 'cx_BBBBBBB', count: 1 }), logged: true }]);
      await db.exec(`ALTER TABLE audit_events DISABLE TRIGGER USER;
        UPDATE audit_events SET outcome = 'denied' WHERE id = (SELECT event_id FROM audit_log_entries WHERE idx = 1);
        ALTER TABLE audit_events ENABLE TRIGGER USER`);
    } finally {
      await db.close();
    }
    const bad = await runCx(['audit', 'verify'], cli.env);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/^index 1: event \d+: the event differs from its logged entry/m);
    expect(bad.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^cx: the audit log does not verify: 1 problem\(s\), the first at 1$/)]);
  });
});
