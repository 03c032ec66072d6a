/** The exchange's private signing key is sealed at rest with a key from outside the database. On both engines. */
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { ensureExchangeSigningKey } from '../../src/audit/exchange-key.js';
import { exchangeSecrets, secretsFor } from '../../src/core/secrets.js';
import { createTestExchange, type TestExchange } from '../helpers/app.js';
import { engineUnderTest } from '../helpers/database.js';

describe(`secrets on ${engineUnderTest}`, () => {
  let ex: TestExchange;
  beforeAll(async () => {
    ex = await createTestExchange();
  });
  afterAll(() => ex.close());

  const stored = async () => (await ex.db.query<{ private_jwk: Record<string, unknown> }>('SELECT private_jwk FROM exchange_signing_keys'))[0]!.private_jwk;

  it('the private key is stored sealed, and opens with the exchange secret', async () => {
    const sealed = await stored();
    expect(sealed).toMatchObject({ sealed: 'A256GCM' });
    expect(JSON.stringify(sealed)).not.toMatch(/"d":/);
    expect(secretsFor(ex.config).open(sealed as never)).toMatchObject({ kty: 'OKP', crv: 'Ed25519', d: expect.any(String) });
  });

  it('a key an earlier version stored in plain text is sealed at the next start', async () => {
    const plain = secretsFor(ex.config).open((await stored()) as never);
    await ex.db.query('UPDATE exchange_signing_keys SET private_jwk = $1', [plain]);
    await ensureExchangeSigningKey(ex.db, secretsFor(ex.config));
    expect(await stored()).toMatchObject({ sealed: 'A256GCM' });
  });

  it('another secret cannot open it, and start-up says why', async () => {
    await expect(ensureExchangeSigningKey(ex.db, exchangeSecrets(randomBytes(32)))).rejects.toThrow(/does not open with this exchange secret/);
  });

  it('with no EXCHANGE_SECRET, a secret file is made under DATA_DIR, readable by its owner only', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cx-secret-'));
    const config = loadConfig({ DATA_DIR: dir });
    const first = secretsFor(config).pseudonym('x');
    expect(statSync(join(dir, 'exchange.secret')).mode & 0o777).toBe(0o600);
    // The same file gives the same pseudonyms to the next process.
    expect(secretsFor(loadConfig({ DATA_DIR: dir })).pseudonym('x')).toBe(first);
    expect(secretsFor(loadConfig({ DATA_DIR: dir, EXCHANGE_SECRET: randomBytes(32).toString('base64url') })).pseudonym('x')).not.toBe(first);
    expect(() => loadConfig({ EXCHANGE_SECRET: 'short' })).toThrow(/EXCHANGE_SECRET=\[hidden\]/);
  });
});
