/**
 * Partners' public signing keys. Only Ed25519 (EdDSA) and P-256 (ES256) public keys are accepted:
 * no symmetric keys (a grantor's secret would have to be shared), no RSA (its weak sizes are the
 * common mistake), no private material (a partner publishing its private key by accident must learn
 * of it here, not after a forged token).
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { importJWK } from 'jose';
import { z } from 'zod';
import { AppError, jsonPointer, type FieldError } from '../errors.js';
import { consentAlgorithms } from './token.js';

const base64url32 = z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'must be 32 bytes in base64url');
const kid = z.string().min(1).max(200).regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces');
const privateMembers = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'] as const;

export const publicJwkSchema = z.discriminatedUnion('kty', [
  z
    .object({
      kty: z.literal('OKP'),
      crv: z.literal('Ed25519', { error: 'OKP keys must be Ed25519' }),
      x: base64url32,
      kid,
      alg: z.literal('EdDSA').optional(),
      use: z.literal('sig').optional(),
    })
    .strict(),
  z
    .object({
      kty: z.literal('EC'),
      crv: z.literal('P-256', { error: 'EC keys must be P-256' }),
      x: base64url32,
      y: base64url32,
      kid,
      alg: z.literal('ES256').optional(),
      use: z.literal('sig').optional(),
    })
    .strict(),
]);
export type PublicJwk = z.infer<typeof publicJwkSchema>;

export const jwksSchema = z.object({ keys: z.array(z.record(z.string(), z.unknown())).min(1).max(10) }).strict();

export function algorithmOf(jwk: PublicJwk): (typeof consentAlgorithms)[number] {
  return jwk.kty === 'OKP' ? 'EdDSA' : 'ES256';
}

/** Checks a JWKS a partner registers; every problem is named by its path. */
export async function parsePartnerJwks(input: z.infer<typeof jwksSchema>): Promise<PublicJwk[]> {
  const errors: FieldError[] = [];
  const keys: PublicJwk[] = [];
  for (const [index, raw] of input.keys.entries()) {
    const path = `/keys/${index}`;
    const secret = privateMembers.filter((member) => member in raw);
    if (secret.length) {
      errors.push({ path, message: `contains private key material (${secret.join(', ')}): register only the public key, and treat this private key as exposed` });
      continue;
    }
    if (raw.kty !== 'OKP' && raw.kty !== 'EC') {
      errors.push({ path: `${path}/kty`, message: `${JSON.stringify(raw.kty)} keys are not accepted: use Ed25519 (kty OKP, alg EdDSA) or P-256 (kty EC, alg ES256)` });
      continue;
    }
    const parsed = publicJwkSchema.safeParse(raw);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) errors.push({ path: path + jsonPointer(issue.path), message: issue.message });
      continue;
    }
    try {
      // Refuses points that are not on the curve.
      await importJWK(parsed.data, algorithmOf(parsed.data));
    } catch {
      errors.push({ path, message: 'is not a valid public key for its curve' });
      continue;
    }
    keys.push(parsed.data);
  }
  const kids = keys.map((key) => key.kid);
  kids.forEach((k, index) => {
    if (kids.indexOf(k) !== index) errors.push({ path: `/keys/${index}/kid`, message: `kid ${JSON.stringify(k)} appears twice` });
  });
  if (errors.length) throw new AppError('validation_failed', 'The JWKS has keys the exchange cannot accept.', { errors });
  return keys;
}

export interface VerificationKey {
  alg: (typeof consentAlgorithms)[number];
  /** One string per distinct public key (kid and key material). */
  identity: string;
  keyObject: KeyObject;
}

/** Stored keys, checked and imported once each; null for a stored value that is not a usable key. */
const verificationKeys = new Map<string, VerificationKey | null>();

/** A registered key as stored, ready to verify signatures with node:crypto. */
export function verificationKey(stored: Record<string, unknown>): VerificationKey | null {
  const identity = `${String(stored.kty)}:${String(stored.crv)}:${String(stored.kid)}:${String(stored.x)}:${String(stored.y ?? '')}`;
  let key = verificationKeys.get(identity);
  if (key === undefined) {
    const jwk = publicJwkSchema.safeParse(stored);
    key = jwk.success ? { alg: algorithmOf(jwk.data), identity, keyObject: createPublicKey({ key: jwk.data, format: 'jwk' }) } : null;
    if (verificationKeys.size > 10_000) verificationKeys.clear();
    verificationKeys.set(identity, key);
  }
  return key;
}
