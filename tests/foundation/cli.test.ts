import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineUnderTest } from '../helpers/database.js';
import { freshCliEnv, runCx, startCxServe, type CliEnv, cliTimeout } from '../helpers/cli.js';

describe(`the cx command on ${engineUnderTest}`, cliTimeout, () => {
  let cli: CliEnv;
  beforeAll(async () => {
    cli = await freshCliEnv();
  });
  afterAll(() => cli.cleanup());

  it('prints help for every command', async () => {
    const top = await runCx(['--help'], cli.env);
    expect(top.code).toBe(0);
    for (const command of ['serve', 'migrate', 'partners', 'keys']) expect(top.stdout).toContain(command);
    const keys = await runCx(['keys', 'create', '--help'], cli.env);
    expect(keys.code).toBe(0);
    expect(keys.stdout).toContain('--partner');
  });

  it('migrates, then reports it is up to date', async () => {
    const first = await runCx(['migrate'], cli.env);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^applied 001_foundation/);
    const second = await runCx(['migrate'], cli.env);
    expect(second.stdout).toMatch(/^up to date/);
  });

  it('manages partners and keys for operators', async () => {
    const added = await runCx(['partners', 'add', 'acme', '--name', 'Acme Ltd'], cli.env);
    expect(added.code).toBe(0);
    expect(added.stdout).toMatch(/^[0-9a-f-]{36} {2}acme {2}Acme Ltd$/m);
    const listed = await runCx(['partners', 'list'], cli.env);
    expect(listed.stdout).toContain('Acme Ltd');

    const created = await runCx(['keys', 'create', '--partner', 'acme', '--name', 'loader'], cli.env);
    expect(created.code).toBe(0);
    expect(created.stdout.trim()).toMatch(/^cx_[A-Za-z0-9_-]{43}$/);
    const keyId = created.stderr.match(/key ([0-9a-f-]{36})/)![1]!;
    const keys = await runCx(['keys', 'list', '--partner', 'acme'], cli.env);
    expect(keys.stdout).toContain(keyId);
    expect(keys.stdout).not.toContain(created.stdout.trim());
    const revoked = await runCx(['keys', 'revoke', keyId], cli.env);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toMatch(/^revoked /);
  });

  it.each([
    [['partners', 'add', 'acme', '--name', 'Again'], /^cx: A partner with the slug "acme" is already registered/],
    [['keys', 'create', '--partner', 'nobody'], /^cx: The partner was not found/],
    [['keys', 'create', '--role', 'boss'], /^cx: --role must be/],
    [['keys', 'revoke', 'not-a-key'], /^cx: The key was not found/],
    [['frobnicate'], /unknown command/],
  ])('fails %j with one clear line and a non-zero exit', async (args, message) => {
    const result = await runCx(args, cli.env);
    expect(result.code).not.toBe(0);
    expect(result.stderr.trim().split('\n')[0]).toMatch(message);
  });

  it('stops at start-up on a wrong setting, naming it', async () => {
    const result = await runCx(['serve'], { ...cli.env, PORT: 'eighty' });
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe('cx: invalid configuration: PORT="eighty": Invalid input: expected number, received NaN');
  });

  it('serves, shuts down on SIGTERM, and keeps its data across a restart', async () => {
    const first = await startCxServe(cli.env);
    const adminKey = readFileSync(join(cli.dataDir, 'admin.key'), 'utf8').trim();
    expect((await fetch(`${first.url}/readyz`)).status).toBe(200);
    const created = await fetch(`${first.url}/v1/partners`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ slug: 'survivor', name: 'Survivor plc' }),
    });
    expect(created.status).toBe(201);
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(first.output()).toContain('"msg":"stopped"');
    // The service logs to stdout, JSON lines only, with no plain-text line between them.
    const lines = first.stdout().trim().split('\n').map((line) => JSON.parse(line) as { msg: string; url?: string; res?: { statusCode: number } });
    expect(lines.find((l) => l.msg.startsWith('customer exchange listening on'))?.url).toBe(first.url);
    expect(lines.filter((l) => l.msg === 'request completed').map((l) => l.res?.statusCode)).toEqual([200, 201]);

    const second = await startCxServe(cli.env);
    const partners = await fetch(`${second.url}/v1/partners`, { headers: { authorization: `Bearer ${adminKey}` } });
    expect(JSON.stringify(await partners.json())).toContain('Survivor plc');
    second.child.kill('SIGINT');
    expect(await second.exited).toBe(0);
  });

  it('completes commands and options in bash and zsh, from the commands as registered', async () => {
    const bash = await runCx(['completion', 'bash'], cli.env);
    expect(bash.code, bash.stderr).toBe(0);
    const complete = (...words: string[]) =>
      new Promise<string[]>((resolve, reject) => {
        const script = `${bash.stdout}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _cx; printf '%s\\n' "\${COMPREPLY[@]}"`;
        execFile('bash', ['-c', script], (error, stdout) => (error ? reject(error) : resolve(stdout.split('\n').filter(Boolean))));
      });
    expect(await complete('cx', 'da')).toEqual(['datasets']);
    expect(await complete('cx', 'audit', 'verify')).toEqual(['verify', 'verify-proof']);
    expect(await complete('cx', 'uploads', 'list', '--d')).toEqual(['--dataset']);
    expect(await complete('cx', 'dedupe', '--mapping', 'febrl', '--cl')).toEqual(['--cluster', '--cluster-threshold']);
    const zsh = await runCx(['completion', 'zsh'], cli.env);
    expect(zsh.stdout).toMatch(/^#compdef cx\n/);
    for (const command of ['serve', 'datasets', 'uploads', 'completion']) expect(zsh.stdout).toMatch(new RegExp(`(^|')${command}:`, 'm'));
    expect(zsh.stdout).toContain("'cx uploads rejected'");
    const fish = await runCx(['completion', 'fish'], cli.env);
    expect([fish.code, fish.stderr]).toEqual([1, 'cx: no completion for fish: use bash or zsh\n']);
  });

  it('lists as JSON for scripts (--json)', async () => {
    expect((await runCx(['partners', 'add', 'json-co', '--name', 'Json Co'], cli.env)).code).toBe(0);
    const partners = JSON.parse((await runCx(['partners', 'list', '--json'], cli.env)).stdout) as { slug: string; id: string }[];
    expect(partners.map((p) => p.slug)).toContain('json-co');
    expect((await runCx(['keys', 'create', '--partner', 'json-co', '--name', 'etl'], cli.env)).code).toBe(0);
    const keys = JSON.parse((await runCx(['keys', 'list', '--partner', 'json-co', '--json'], cli.env)).stdout) as { role: string; name: string }[];
    expect(keys).toEqual([expect.objectContaining({ role: 'partner', name: 'etl' })]);
  });
});
