import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineUnderTest } from '../helpers/database.js';
import { freshCliEnv, runCx, startCxServe, type CliEnv, cliTimeout } from '../helpers/cli.js';
import { sharedData } from '../helpers/mapping.js';

type Json = Record<string, unknown>;

/**
 * The README's two-partner walk-through, end to end through `cx` and HTTP: acme uploads, makes a
 * key, registers it, signs a token for globex; globex reads within the grant and not outside it;
 * acme revokes; globex's next read fails; every step is in the audit log.
 */
describe(`consent between two partners through cx, on ${engineUnderTest}`, cliTimeout, () => {
  let cli: CliEnv;
  let server: Awaited<ReturnType<typeof startCxServe>>;
  const keys: Record<string, string> = {};
  const ids: Record<string, string> = {};

  const api = async (path: string, init: RequestInit & { as?: string; token?: string } = {}) => {
    const { as, token, ...rest } = init;
    const response = await fetch(`${server.url}${path}`, {
      ...rest,
      headers: {
        authorization: `Bearer ${keys[as ?? 'acme']}`,
        'content-type': 'application/json',
        ...(token ? { 'consent-token': token } : {}),
      },
    });
    return { status: response.status, body: (await response.json()) as Json };
  };
  const cx = (args: string[], as = 'acme') => runCx(args, { ...cli.env, CX_URL: server.url, CX_API_KEY: keys[as]! });

  beforeAll(async () => {
    cli = await freshCliEnv();
    server = await startCxServe(cli.env);
    keys.admin = readFileSync(join(cli.dataDir, 'admin.key'), 'utf8').trim();
    for (const slug of ['acme', 'globex']) {
      ids[slug] = (await api('/v1/partners', { method: 'POST', as: 'admin', body: JSON.stringify({ slug, name: slug }) })).body.id as string;
      keys[slug] = (await api('/v1/keys', { method: 'POST', as: 'admin', body: JSON.stringify({ name: 'cli', partner: slug }) })).body.key as string;
    }
    ids.dataset = (await api('/v1/datasets', { method: 'POST', body: JSON.stringify({ name: 'febrl', defaultMapping: 'febrl' }) })).body.id as string;
    ids.other = (await api('/v1/datasets', { method: 'POST', body: JSON.stringify({ name: 'other' }) })).body.id as string;
    expect((await cx(['upload', '--dataset', ids.dataset, `${sharedData}febrl/dataset1.csv`])).code).toBe(0);
  });
  afterAll(async () => {
    server.child.kill('SIGTERM');
    await server.exited;
    await cli.cleanup();
  });

  it('walks from keygen to revocation', async () => {
    const keyFile = join(cli.dataDir, 'acme.jwk');
    const jwksFile = join(cli.dataDir, 'acme.jwks.json');
    const keygen = await cx(['consent', 'keygen', '--out', keyFile, '--kid', 'acme-2026']);
    expect(keygen.code, keygen.stderr).toBe(0);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const jwks = JSON.parse(keygen.stdout) as { keys: Json[] };
    expect(jwks.keys).toEqual([expect.objectContaining({ kty: 'OKP', crv: 'Ed25519', kid: 'acme-2026', alg: 'EdDSA' })]);
    expect(jwks.keys[0]).not.toHaveProperty('d');
    writeFileSync(jwksFile, keygen.stdout);
    expect((await cx(['consent', 'keygen', '--out', keyFile])).stderr).toBe(`cx: ${keyFile} exists; pass --force to overwrite it\n`);

    // A private key is refused before it is stored anywhere.
    const leaked = await cx(['consent', 'register', keyFile]);
    expect(leaked.code).toBe(1);
    expect(leaked.stderr).toMatch(/^cx: refused \(400\): .*\/keys\/0: contains private key material \(d\)/);
    expect((await cx(['consent', 'register', jwksFile])).stdout).toBe('registered keys: acme-2026\n');

    const minted = await cx([
      'consent', 'mint', '--key', keyFile, '--grantor', ids.acme!, '--grantee', ids.globex!, '--purpose', 'identity_verification',
      '--fields', 'name,birthDate', '--datasets', ids.dataset!, '--ttl', '7d', '--jti', 'walkthrough-1',
    ]);
    expect(minted.code, minted.stderr).toBe(0);
    const token = minted.stdout.trim();
    const inspected = await cx(['consent', 'inspect', token, '--jwks', jwksFile]);
    expect(inspected.code).toBe(0);
    expect(inspected.stdout).toContain(`grantee (sub): ${ids.globex}`);
    expect(inspected.stdout).toContain('fields disclosed: name, birthDate');
    expect(inspected.stdout).toContain('signature: valid (key acme-2026 of the given JWKS)');
    const tampered = await cx(['consent', 'inspect', `${token.slice(0, -4)}AAAA`, '--jwks', jwksFile]);
    expect([tampered.code, tampered.stdout.includes('signature: NOT valid')]).toEqual([2, true]);

    // globex reads within the grant: only the granted fields.
    const path = (dataset: string, id: string) => `/v1/shared/datasets/${dataset}/records/${id}?purpose=identity_verification`;
    const read = await api(path(ids.dataset!, 'rec-122-org'), { as: 'globex', token });
    expect(read.status).toBe(200);
    expect(read.body.record).toEqual({ standardVersion: '1.1.0', source: { recordId: 'rec-122-org' }, name: { given: 'Lachlan', family: 'Berry' }, birthDate: '1999-02-19' });
    // Outside it: another dataset, another purpose, no token.
    expect((await api(path(ids.other!, 'rec-122-org'), { as: 'globex', token })).status).toBe(404);
    expect((await api(path(ids.dataset!, 'rec-122-org').replace('identity_verification', 'marketing'), { as: 'globex', token })).status).toBe(403);
    expect((await api(path(ids.dataset!, 'rec-122-org'), { as: 'globex' })).status).toBe(401);

    const revoked = await cx(['consent', 'revoke', 'walkthrough-1', '--reason', 'test over']);
    expect(revoked.stdout).toMatch(/^revoked walkthrough-1 at /);
    const after = await api(path(ids.dataset!, 'rec-122-org'), { as: 'globex', token });
    expect([after.status, after.body.reason]).toEqual([401, 'revoked']);
  });

  it('refuses to sign a token that would not be valid, in one line', async () => {
    const keyFile = join(cli.dataDir, 'other.jwk');
    await cx(['consent', 'keygen', '--alg', 'ES256', '--out', keyFile]);
    const result = await cx(['consent', 'mint', '--key', keyFile, '--grantor', ids.acme!, '--grantee', ids.globex!, '--purpose', 'marketing', '--fields', 'shoeSize']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'cx: the token would not be valid: authorization_details.0.fields.0: "shoeSize" is not a field of the customer standard (see /v1/standards/customer/1/dictionary)\n',
    );
    expect((await cx(['consent', 'mint', '--key', keyFile, '--grantor', 'acme', '--grantee', ids.globex!, '--purpose', 'marketing'])).stderr).toMatch(/^cx: the token would not be valid: iss: Invalid UUID/);
  });
});
