/** Partners' signing keys, revoked consent tokens and the exchange's own signing keys. */
import type { Queryable } from './database.js';

export interface PartnerSigningKey {
  kid: string;
  alg: 'EdDSA' | 'ES256';
  jwk: Record<string, unknown>;
  createdAt: Date;
}

/**
 * Makes `keys` the partner's current key set: new kids are added, kids left out are retired, a kid
 * that comes back with another key is replaced (a kid names one key, never two).
 */
export async function replacePartnerKeys(
  tx: Queryable,
  partnerId: string,
  keys: { kid: string; alg: string; jwk: Record<string, unknown> }[],
): Promise<{ added: number; retired: number }> {
  const kids = keys.map((k) => k.kid);
  const retired = await tx.query(
    `UPDATE partner_signing_keys SET retired_at = now()
     WHERE partner_id = $1 AND retired_at IS NULL AND NOT (kid = ANY($2::text[])) RETURNING kid`,
    [partnerId, kids],
  );
  let added = 0;
  for (const key of keys) {
    const rows = await tx.query(
      `INSERT INTO partner_signing_keys (partner_id, kid, alg, jwk) VALUES ($1, $2, $3, $4)
       ON CONFLICT (partner_id, kid) DO UPDATE SET alg = excluded.alg, jwk = excluded.jwk, created_at = now(), retired_at = NULL
       WHERE partner_signing_keys.jwk IS DISTINCT FROM excluded.jwk OR partner_signing_keys.retired_at IS NOT NULL
       RETURNING kid`,
      [partnerId, key.kid, key.alg, key.jwk],
    );
    added += rows.length;
  }
  return { added, retired: retired.length };
}

export async function selectPartnerKeys(db: Queryable, partnerId: string): Promise<PartnerSigningKey[]> {
  return db.query<PartnerSigningKey>(
    `SELECT kid, alg, jwk, created_at AS "createdAt" FROM partner_signing_keys
     WHERE partner_id = $1 AND retired_at IS NULL ORDER BY kid`,
    [partnerId],
  );
}

/**
 * What verifying one token needs from the database, in one round trip: the grantor's current key
 * for the kid (if any) and whether the token's jti is revoked.
 */
export async function selectVerificationState(
  db: Queryable,
  scope: { grantorId: string; kid: string; jti: string },
): Promise<{ jwk: Record<string, unknown> | null; revoked: boolean }> {
  const [row] = await db.query<{ jwk: Record<string, unknown> | null; revoked: boolean }>(
    `SELECT
       (SELECT jwk FROM partner_signing_keys WHERE partner_id = $1 AND kid = $2 AND retired_at IS NULL) AS jwk,
       EXISTS (SELECT 1 FROM consent_revocations WHERE grantor_id = $1 AND jti = $3) AS revoked`,
    [scope.grantorId, scope.kid, scope.jti],
  );
  return row!;
}

export async function isRevoked(db: Queryable, grantorId: string, jti: string): Promise<boolean> {
  const rows = await db.query(`SELECT 1 FROM consent_revocations WHERE grantor_id = $1 AND jti = $2`, [grantorId, jti]);
  return rows.length > 0;
}

/** Revokes a token by jti; revoking twice keeps the first time. Returns whether it was new. */
export async function insertRevocation(tx: Queryable, input: { grantorId: string; jti: string; reason: string | null }): Promise<{ revokedAt: Date; created: boolean }> {
  const inserted = await tx.query<{ revokedAt: Date }>(
    `INSERT INTO consent_revocations (grantor_id, jti, reason) VALUES ($1, $2, $3)
     ON CONFLICT (grantor_id, jti) DO NOTHING RETURNING revoked_at AS "revokedAt"`,
    [input.grantorId, input.jti, input.reason],
  );
  if (inserted[0]) return { revokedAt: inserted[0].revokedAt, created: true };
  const [existing] = await tx.query<{ revokedAt: Date }>(
    `SELECT revoked_at AS "revokedAt" FROM consent_revocations WHERE grantor_id = $1 AND jti = $2`,
    [input.grantorId, input.jti],
  );
  return { revokedAt: existing!.revokedAt, created: false };
}

export interface ExchangeSigningKey {
  kid: string;
  alg: 'EdDSA' | 'ES256';
  publicJwk: Record<string, unknown>;
  /** Sealed with the key-encryption key (src/core/secrets.ts); plain only in databases of earlier versions. */
  privateJwk: Record<string, unknown>;
}

export async function selectExchangeKeys(db: Queryable): Promise<ExchangeSigningKey[]> {
  return db.query<ExchangeSigningKey>(
    `SELECT kid, alg, public_jwk AS "publicJwk", private_jwk AS "privateJwk" FROM exchange_signing_keys
     WHERE retired_at IS NULL ORDER BY created_at DESC`,
  );
}

export async function insertExchangeKey(tx: Queryable, key: ExchangeSigningKey): Promise<void> {
  await tx.query(`INSERT INTO exchange_signing_keys (kid, alg, public_jwk, private_jwk) VALUES ($1, $2, $3, $4)`, [
    key.kid,
    key.alg,
    key.publicJwk,
    key.privateJwk,
  ]);
}

export async function updateExchangePrivateKey(tx: Queryable, kid: string, privateJwk: unknown): Promise<void> {
  await tx.query(`UPDATE exchange_signing_keys SET private_jwk = $2 WHERE kid = $1`, [kid, privateJwk]);
}
