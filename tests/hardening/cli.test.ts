/** Every CLI failure is one `cx:` line and a non-zero exit, and the CLI refuses what the exchange would. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshCliEnv, runCx, type CliEnv, cliTimeout } from '../helpers/cli.js';
import { engineUnderTest } from '../helpers/database.js';

const oneCxLine = (stderr: string) => {
  const lines = stderr.trim().split('\n');
  expect(lines, stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^cx: /);
  return lines[0]!;
};

describe(`cx failures on ${engineUnderTest}`, cliTimeout, () => {
  let cli: CliEnv;
  beforeAll(async () => {
    cli = await freshCliEnv();
  });
  afterAll(() => cli.cleanup());

  it('a slug the exchange refuses: one line naming the rule, no database error', async () => {
    const result = await runCx(['partners', 'add', 'Bad Slug', '--name', 'Bad'], cli.env);
    expect(result.code).toBe(1);
    expect(oneCxLine(result.stderr)).toMatch(/slug: use 2–63 lowercase letters/);
    expect(result.stderr).not.toMatch(/constraint|violates|postgres/i);
  }, 30_000);

  it('a missing option or unknown command: one cx line, not commander\'s', async () => {
    const missing = await runCx(['partners', 'add', 'acme'], cli.env);
    expect(missing.code).toBe(1);
    expect(oneCxLine(missing.stderr)).toMatch(/required option '-n, --name <name>' not specified/);
    const unknown = await runCx(['frobnicate'], cli.env);
    expect(unknown.code).toBe(1);
    expect(oneCxLine(unknown.stderr)).toMatch(/unknown command 'frobnicate'/);
    const help = await runCx(['--help'], cli.env);
    expect([help.code, help.stderr]).toEqual([0, '']);
  }, 30_000);

  it('a mapping file that is not JSON: one line', async () => {
    const file = join(cli.dataDir, 'broken.json');
    writeFileSync(file, '{\n  "name": "x",\n  oops\n}\n');
    const result = await runCx(['mappings', 'validate', file], cli.env);
    expect(result.code).toBe(1);
    expect(oneCxLine(result.stderr)).toMatch(/not valid JSON/);
  }, 30_000);

  it('mint refuses a lifetime the exchange would refuse, and inspect says lifetime_too_long', async () => {
    const keyFile = join(cli.dataDir, 'k.jwk');
    expect((await runCx(['consent', 'keygen', '--out', keyFile], cli.env)).code).toBe(0);
    const ids = ['--grantor', '00000000-0000-4000-8000-000000000001', '--grantee', '00000000-0000-4000-8000-000000000002', '--purpose', 'fraud_prevention'];
    const long = await runCx(['consent', 'mint', '--key', keyFile, ...ids, '--ttl', '365d'], cli.env);
    expect(long.code).toBe(1);
    expect(oneCxLine(long.stderr)).toMatch(/365 days is longer than the exchange accepts \(90 days/);
    expect(long.stdout).toBe('');
    // A token minted where the limit is higher: inspect, under this exchange's limit, calls it too long.
    const minted = await runCx(['consent', 'mint', '--key', keyFile, ...ids, '--ttl', '365d'], { ...cli.env, CONSENT_MAX_LIFETIME_DAYS: '400' });
    expect(minted.code).toBe(0);
    const inspected = await runCx(['consent', 'inspect', minted.stdout.trim()], cli.env);
    expect(inspected.code).toBe(2);
    expect(inspected.stdout).toMatch(/problems: .*lifetime_too_long/);
  }, 30_000);

  it('upload to a closed port fails before any progress, in one line', async () => {
    const file = join(cli.dataDir, 'x.csv');
    writeFileSync(file, 'a,b\n1,2\n');
    const result = await runCx(['upload', file, '--dataset', 'd', '--key', 'k', '--url', 'http://127.0.0.1:1'], cli.env);
    expect(result.code).toBe(1);
    expect(oneCxLine(result.stderr)).toMatch(/cannot reach the exchange at http:\/\/127\.0\.0\.1:1/);
    expect(result.stderr).not.toMatch(/uploading|%/);
  }, 30_000);

  it('a wrong DATABASE_URL never echoes its password', async () => {
    const result = await runCx(['migrate'], { ...cli.env, DATABASE_URL: 'mysql://admin:hunter2secret@db.invalid/x' });
    expect(result.code).toBe(1);
    expect(oneCxLine(result.stderr)).toMatch(/DATABASE_URL=.*must be a postgres/);
    expect(result.stderr).not.toContain('hunter2secret');
    const unreachable = await runCx(['migrate'], { ...cli.env, DATABASE_URL: 'postgres://admin:hunter2secret@127.0.0.1:1/x' });
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).not.toContain('hunter2secret');
  }, 30_000);
});
