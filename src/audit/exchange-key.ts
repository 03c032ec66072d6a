/**
 * The exchange's own signing keys (Ed25519), published at /.well-known/jwks.json so partners and
 * auditors can check what the exchange signs (audit checkpoints).
 */
import { randomUUID } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';
import { isSealed, type ExchangeSecrets } from '../core/secrets.js';
import { insertExchangeKey, selectExchangeKeys, updateExchangePrivateKey } from '../store/consent.js';
import type { Database } from '../store/database.js';
import { ed25519PrivateKey, noteSigner } from './note.js';

/**
 * Makes the first signing key of a new exchange (concurrent starts make only one). Private keys
 * are kept sealed with the key-encryption key (src/core/secrets.ts); one an earlier version left in
 * plain text is sealed now.
 */
export async function ensureExchangeSigningKey(db: Database, secrets: ExchangeSecrets): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(hashtextextended('exchange-signing-key', 0))`);
    const existing = await selectExchangeKeys(tx);
    for (const key of existing) {
      if (!isSealed(key.privateJwk)) await updateExchangePrivateKey(tx, key.kid, secrets.seal(key.privateJwk));
      else secrets.open(key.privateJwk); // a secret that cannot open the keys stops start-up, with the reason
    }
    if (existing.length > 0) return;
    const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    const publicJwk = await exportJWK(publicKey);
    const kid = `cx-${(await calculateJwkThumbprint(publicJwk)).slice(0, 16)}-${randomUUID().slice(0, 8)}`;
    await insertExchangeKey(tx, {
      kid,
      alg: 'EdDSA',
      publicJwk: { ...publicJwk, kid, alg: 'EdDSA', use: 'sig' },
      privateJwk: secrets.seal({ ...(await exportJWK(privateKey)), kid, alg: 'EdDSA' }),
    });
  });
}

/** The public half of every current signing key. */
export async function exchangeJwks(db: Database): Promise<{ keys: Record<string, unknown>[] }> {
  return { keys: (await selectExchangeKeys(db)).map((key) => key.publicJwk) };
}

/** The signer of the audit log's checkpoints: the newest exchange key, named by the log's origin. */
export async function exchangeLogSigner(db: Database, secrets: ExchangeSecrets, origin: string) {
  const [key] = await selectExchangeKeys(db);
  if (!key) throw new Error('the exchange has no signing key yet (ensureExchangeSigningKey makes it)');
  const jwk = isSealed(key.privateJwk) ? secrets.open(key.privateJwk) : key.privateJwk;
  return noteSigner(origin, ed25519PrivateKey(jwk as Record<string, unknown>));
}
