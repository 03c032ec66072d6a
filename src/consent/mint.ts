/**
 * What a grantor does on its own side, offline: make a signing key pair, sign consent tokens with
 * the private key, and read a token back in plain words (`cx consent keygen | mint | inspect`).
 */
import { randomUUID } from 'node:crypto';
import {
  calculateJwkThumbprint,
  compactVerify,
  createLocalJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  exportJWK,
  generateKeyPair,
  importJWK,
  SignJWT,
  type JSONWebKeySet,
  type JWK,
} from 'jose';
import { z } from 'zod';
import { CONSENT_TOKEN_TYPE, claimProblems, consentAlgorithms, consentClaimsSchema, type ConsentClaimsInput } from './token.js';

export class ConsentToolError extends Error {}

const privateJwkSchema = z.discriminatedUnion('kty', [
  z.object({ kty: z.literal('OKP'), crv: z.literal('Ed25519'), x: z.string(), d: z.string(), kid: z.string().min(1) }),
  z.object({ kty: z.literal('EC'), crv: z.literal('P-256'), x: z.string(), y: z.string(), d: z.string(), kid: z.string().min(1) }),
]);

export async function generateSigningKey(alg: (typeof consentAlgorithms)[number], kid?: string): Promise<{ privateJwk: JWK; publicJwk: JWK }> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}) });
  const publicJwk = await exportJWK(publicKey);
  const keyId = kid ?? `${new Date().toISOString().slice(0, 10)}-${(await calculateJwkThumbprint(publicJwk)).slice(0, 8)}`;
  return {
    privateJwk: { ...(await exportJWK(privateKey)), kid: keyId, alg, use: 'sig' },
    publicJwk: { ...publicJwk, kid: keyId, alg, use: 'sig' },
  };
}

/** Seconds in a duration like `90d`, `12h`, `30m`, `45s` or a plain number of seconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+)\s*([dhms]?)$/.exec(text.trim());
  if (!match) throw new ConsentToolError(`${JSON.stringify(text)} is not a duration: use for example 30d, 12h, 15m or 3600`);
  const unit = { d: 86_400, h: 3_600, m: 60, s: 1, '': 1 }[match[2] as 'd' | 'h' | 'm' | 's' | ''];
  return Number(match[1]) * unit;
}

export interface MintOptions {
  privateJwk: unknown;
  grantor: string;
  grantee: string;
  audience: string;
  purpose: string;
  lawfulBasis: string;
  actions: string[];
  datasets?: string[];
  fields: string[];
  minGrade?: string;
  maxResults?: number;
  /** false: answers under the token carry grades only, no numeric scores. */
  scores?: boolean;
  ttlSeconds: number;
  /** The longest lifetime the exchange accepts (CONSENT_MAX_LIFETIME_DAYS): a longer token is not signed. */
  maxLifetimeSeconds?: number;
  jti?: string;
  now?: Date;
}

/** Signs a consent token; the claims are checked first, so a mistake is caught before the token leaves. */
export async function mintConsentToken(options: MintOptions): Promise<{ token: string; claims: z.infer<typeof consentClaimsSchema> }> {
  const key = privateJwkSchema.safeParse(options.privateJwk);
  if (!key.success) throw new ConsentToolError('the key file is not an Ed25519 or P-256 private JWK with a kid (make one with cx consent keygen)');
  const alg = key.data.kty === 'OKP' ? 'EdDSA' : 'ES256';
  if (options.maxLifetimeSeconds !== undefined && options.ttlSeconds > options.maxLifetimeSeconds) {
    throw new ConsentToolError(
      `a lifetime of ${describeSeconds(options.ttlSeconds)} is longer than the exchange accepts (${describeSeconds(options.maxLifetimeSeconds)}, CONSENT_MAX_LIFETIME_DAYS): it would refuse the token as lifetime_too_long`,
    );
  }
  const iat = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const input: ConsentClaimsInput = {
    iss: options.grantor,
    sub: options.grantee,
    aud: options.audience,
    iat,
    nbf: iat,
    exp: iat + options.ttlSeconds,
    jti: options.jti ?? randomUUID(),
    purpose: options.purpose as ConsentClaimsInput['purpose'],
    lawful_basis: options.lawfulBasis as ConsentClaimsInput['lawful_basis'],
    authorization_details: [
      {
        type: 'customer_match',
        actions: options.actions as ('match' | 'disclose')[],
        ...(options.datasets?.length ? { datasets: options.datasets } : {}),
        fields: options.fields,
        ...(options.minGrade ? { min_grade: options.minGrade as 'probable' } : {}),
        ...(options.maxResults ? { max_results: options.maxResults } : {}),
        ...(options.scores === false ? { scores: false } : {}),
      },
    ],
  };
  const parsed = consentClaimsSchema.safeParse(input);
  if (!parsed.success) {
    throw new ConsentToolError(`the token would not be valid: ${claimProblems(parsed.error).join('; ')}`);
  }
  const token = await new SignJWT(parsed.data)
    .setProtectedHeader({ alg, typ: CONSENT_TOKEN_TYPE, kid: key.data.kid })
    .sign(await importJWK(key.data, alg));
  return { token, claims: parsed.data };
}

function describeSeconds(seconds: number): string {
  return seconds % 86_400 === 0 ? `${seconds / 86_400} days` : seconds % 3600 === 0 ? `${seconds / 3600} hours` : `${seconds} seconds`;
}

/** A token in plain words; with the grantor's JWKS, whether its signature holds; with the exchange's limit, whether it accepts the lifetime. */
export async function inspectConsentToken(token: string, options: { jwks?: JSONWebKeySet; now?: Date; maxLifetimeSeconds?: number } = {}): Promise<string[]> {
  let header: ReturnType<typeof decodeProtectedHeader>;
  let payload: Record<string, unknown>;
  try {
    header = decodeProtectedHeader(token);
    payload = decodeJwt(token);
  } catch {
    throw new ConsentToolError('this is not a JWS in compact form (header.payload.signature, base64url)');
  }
  const now = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const when = (value: unknown) => (typeof value === 'number' ? new Date(value * 1000).toISOString() : 'missing');
  const detail = (Array.isArray(payload.authorization_details) ? payload.authorization_details[0] : undefined) as Record<string, unknown> | undefined;
  const list = (value: unknown, none: string) => (Array.isArray(value) && value.length ? value.join(', ') : none);
  const lines = [
    `header: alg ${String(header.alg)}, typ ${String(header.typ)}, kid ${String(header.kid)}`,
    `grantor (iss): ${String(payload.iss)}`,
    `grantee (sub): ${String(payload.sub)}`,
    `audience (aud): ${String(payload.aud)}`,
    `purpose: ${String(payload.purpose)} (lawful basis ${String(payload.lawful_basis)})`,
    `actions: ${list(detail?.actions, 'none')}`,
    `datasets: ${list(detail?.datasets, "all of the grantor's")}`,
    `fields disclosed: ${list(detail?.fields, 'none')}`,
    `min grade: ${String(detail?.min_grade ?? 'probable')}, max results: ${String(detail?.max_results ?? 10)}, scores: ${detail?.scores === false ? 'no (grades only)' : 'yes'}`,
    `issued ${when(payload.iat)}, valid from ${when(payload.nbf)}, expires ${when(payload.exp)}`,
    `jti: ${String(payload.jti)}`,
  ];
  const problems: string[] = [];
  if (!consentAlgorithms.includes(header.alg as 'EdDSA')) problems.push(`alg ${String(header.alg)} is not accepted (EdDSA or ES256)`);
  if (header.typ !== CONSENT_TOKEN_TYPE) problems.push(`typ must be ${CONSENT_TOKEN_TYPE}`);
  const parsed = consentClaimsSchema.safeParse(payload);
  if (!parsed.success) problems.push(...claimProblems(parsed.error));
  if (typeof payload.exp === 'number' && payload.exp <= now) problems.push('expired');
  if (typeof payload.nbf === 'number' && payload.nbf > now) problems.push('not valid yet');
  if (options.maxLifetimeSeconds !== undefined && typeof payload.exp === 'number' && typeof payload.iat === 'number' && payload.exp - payload.iat > options.maxLifetimeSeconds) {
    problems.push(`lifetime_too_long: ${describeSeconds(payload.exp - payload.iat)}, longer than the exchange accepts (${describeSeconds(options.maxLifetimeSeconds)})`);
  }
  lines.push(problems.length ? `problems: ${problems.join('; ')}` : 'claims: well-formed and current');
  if (options.jwks) {
    try {
      await compactVerify(token, createLocalJWKSet(options.jwks), { algorithms: [...consentAlgorithms] });
      lines.push(`signature: valid (key ${String(header.kid)} of the given JWKS)`);
    } catch (error) {
      lines.push(`signature: NOT valid: ${error instanceof Error ? error.message : String(error)}`);
    }
  } else {
    lines.push('signature: not checked (pass --jwks with the grantor\'s keys)');
  }
  return lines;
}
