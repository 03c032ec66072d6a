/**
 * npm run bench:consent [-- tokens]: consent-token verifications per second on one core.
 * 1. Signature and claims (jose), keys imported once and cached by kid: the cost the goal names.
 * 2. The whole verification a request makes (key and revocation looked up in the database, then
 *    the exchange's rules), on PGlite and on the PostgreSQL server.
 */
import { randomUUID } from 'node:crypto';
import { loadConfig } from '../src/config.js';
import { generateSigningKey, mintConsentToken } from '../src/consent/mint.js';
import { CONSENT_TOKEN_TYPE } from '../src/consent/token.js';
import { verifyConsentToken } from '../src/consent/verify.js';
import { createLogger } from '../src/logger.js';
import { createPartner } from '../src/services/create-partner.js';
import { replacePartnerKeys } from '../src/store/consent.js';
import type { Database, Queryable } from '../src/store/database.js';
import { importJWK, jwtVerify, type JWK } from 'jose';
import { onBothEngines } from './engines.js';

const count = Number(process.argv[2] ?? 10_000);
const config = loadConfig({ LOG_LEVEL: 'warn' });

async function mintMany(key: JWK, grantor: string, grantee: string): Promise<string[]> {
  const tokens: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const { token } = await mintConsentToken({
      privateJwk: key, grantor, grantee, audience: config.EXCHANGE_ID, purpose: 'fraud_prevention', lawfulBasis: 'legitimate_interests',
      actions: ['match', 'disclose'], fields: ['name', 'birthDate'], ttlSeconds: 3600, jti: randomUUID(),
    });
    tokens.push(token);
  }
  return tokens;
}

function report(label: string, seconds: number): void {
  console.log(`bench:consent ${label.padEnd(44)} ${count.toLocaleString('en')} tokens: ${seconds.toFixed(2)} s, ${Math.round(count / seconds).toLocaleString('en')} verifications/s`);
}

const keys = { EdDSA: (await generateSigningKey('EdDSA', 'bench-ed')).privateJwk, ES256: (await generateSigningKey('ES256', 'bench-ec')).privateJwk };
const grantor = randomUUID();
const grantee = randomUUID();

for (const [alg, key] of Object.entries(keys)) {
  const tokens = await mintMany(key, grantor, grantee);
  const { d: _d, ...publicJwk } = key;
  // Everything a verification does but the database round trip: the key comes from memory.
  const keysInMemory = { query: async () => [{ jwk: publicJwk, revoked: false }] } as unknown as Queryable;
  const started = performance.now();
  for (const token of tokens) await verifyConsentToken(keysInMemory, config, { token, callerId: grantee, purpose: 'fraud_prevention', action: 'match' });
  report(`${alg} verification, key cached by kid`, (performance.now() - started) / 1000);
  // The common case: a grantee sends one token with many requests.
  const reused = performance.now();
  for (let i = 0; i < count; i += 1) await verifyConsentToken(keysInMemory, config, { token: tokens[0]!, callerId: grantee, purpose: 'fraud_prevention', action: 'match' });
  report(`${alg} verification of one token reused`, (performance.now() - reused) / 1000);
  const cryptoKey = await importJWK(publicJwk, alg);
  const jose = performance.now();
  for (const token of tokens.slice(0, count / 4)) {
    await jwtVerify(token, cryptoKey, { algorithms: [alg], typ: CONSENT_TOKEN_TYPE, audience: config.EXCHANGE_ID });
  }
  report(`${alg} jose jwtVerify (WebCrypto), for comparison`, ((performance.now() - jose) / 1000) * 4);
}

async function run(engine: 'pglite' | 'postgres', db: Database): Promise<void> {
  const operator = { db, config, logger: createLogger('warn'), actor: { type: 'operator' as const }, requestId: null };
  const [owner, user] = [await createPartner({ ctx: operator, input: { slug: 'grantor', name: 'Grantor' } }), await createPartner({ ctx: operator, input: { slug: 'grantee', name: 'Grantee' } })];
  const { d: _d, ...publicJwk } = keys.EdDSA;
  await db.transaction((tx) => replacePartnerKeys(tx, owner.id, [{ kid: String(publicJwk.kid), alg: 'EdDSA', jwk: publicJwk as Record<string, unknown> }]));
  const tokens = await mintMany(keys.EdDSA, owner.id, user.id);
  const started = performance.now();
  for (const token of tokens) await verifyConsentToken(db, config, { token, callerId: user.id, purpose: 'fraud_prevention', action: 'match' });
  report(`EdDSA full verification on ${engine} (DB lookup)`, (performance.now() - started) / 1000);
}

await onBothEngines(run);
