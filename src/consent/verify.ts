/**
 * Verifies a consent token for one request: first the token itself (jose: algorithm allowlist,
 * typ, the grantor's registered key by kid, audience, time, required claims), then the exchange's
 * rules (the caller is the grantee, the purpose and action are granted, the datasets are the
 * grantor's, the token is not revoked). A token that does not verify is refused with 401; a valid
 * token that does not permit the request with 403. Messages speak of the token only, never of the
 * grantor's data.
 */
import { decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import type { Config } from '../config.js';
import { purposePolicies, type purposes } from '../standard/code-lists.js';
import { selectVerificationState } from '../store/consent.js';
import type { Queryable } from '../store/database.js';
import { selectOwnedDatasetIds } from '../store/datasets.js';
import { sealGrant, type ConsentGrant } from './grant.js';
import { importPublicKey, publicJwkSchema, algorithmOf } from './jwks.js';
import { CONSENT_TOKEN_TYPE, consentAlgorithms, consentClaimsSchema, type consentActions } from './token.js';

export type DenialReason =
  | 'missing' | 'too_large' | 'malformed' | 'algorithm_not_allowed' | 'wrong_type' | 'unknown_key' | 'bad_signature'
  | 'expired' | 'not_yet_valid' | 'wrong_audience' | 'invalid_claims' | 'lifetime_too_long' | 'revoked'
  | 'wrong_grantee' | 'own_data' | 'purpose_mismatch' | 'action_not_granted' | 'foreign_dataset';

/** A refused token: 401 when the token does not verify, 403 when it verifies but does not permit. */
export class ConsentDenial extends Error {
  constructor(
    readonly reason: DenialReason,
    readonly status: 401 | 403,
    message: string,
    /** The token's jti (and grantor) as far as they could be read, for the audit log. */
    readonly claimed: { jti?: string; grantorId?: string; verified: boolean } = { verified: false },
  ) {
    super(message);
    this.name = 'ConsentDenial';
  }
}

export interface ConsentRequest {
  token: string | undefined;
  /** The partner making the request: it must be the token's grantee. */
  callerId: string;
  purpose: (typeof purposes)[number];
  action: (typeof consentActions)[number];
}

const compactJws = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function unverifiedClaims(token: string): JWTPayload {
  try {
    return decodeJwt(token);
  } catch {
    throw new ConsentDenial('malformed', 401, 'The consent token is not a readable JWS: its payload is not a JSON object in base64url.');
  }
}

function describeVerifyFailure(error: unknown): [DenialReason, string] {
  if (error instanceof errors.JWTExpired) return ['expired', 'The consent token has expired (exp is in the past); ask the grantor for a new one.'];
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'nbf') return ['not_yet_valid', 'The consent token is not valid yet (nbf is in the future).'];
    if (error.claim === 'aud') return ['wrong_audience', 'The consent token is meant for another service: its aud is not this exchange\'s id.'];
    if (error.claim === 'typ') return ['wrong_type', `The consent token's typ header must be "${CONSENT_TOKEN_TYPE}".`];
    return ['invalid_claims', `The consent token's claims are not valid: ${error.message}.`];
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return ['bad_signature', "The consent token's signature does not verify: it was altered after signing, or signed with another key."];
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return ['algorithm_not_allowed', "The consent token's alg does not match the grantor's key."];
  return ['malformed', 'The consent token is not a valid JWS.'];
}

/** Verifies `request.token` and returns the grant it carries, or throws a ConsentDenial. */
export async function verifyConsentToken(db: Queryable, config: Config, request: ConsentRequest): Promise<ConsentGrant> {
  const { token } = request;
  if (!token) throw new ConsentDenial('missing', 401, 'This request needs a consent token signed by the grantor, in the Consent-Token header.');
  if (Buffer.byteLength(token) > config.CONSENT_MAX_TOKEN_BYTES) {
    throw new ConsentDenial('too_large', 401, `The consent token is larger than ${config.CONSENT_MAX_TOKEN_BYTES} bytes.`);
  }
  if (!compactJws.test(token)) throw new ConsentDenial('malformed', 401, 'The consent token must be a JWS in compact form: three base64url parts separated by dots.');

  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    throw new ConsentDenial('malformed', 401, "The consent token's header is not readable JSON.");
  }
  const claimed = unverifiedClaims(token);
  const audit = { jti: typeof claimed.jti === 'string' ? claimed.jti.slice(0, 200) : undefined, verified: false };
  if (!consentAlgorithms.includes(header.alg as (typeof consentAlgorithms)[number])) {
    throw new ConsentDenial('algorithm_not_allowed', 401, `alg ${JSON.stringify(header.alg ?? null)} is not accepted: consent tokens are signed with ${consentAlgorithms.join(' or ')}.`, audit);
  }
  if (header.typ !== CONSENT_TOKEN_TYPE) {
    throw new ConsentDenial('wrong_type', 401, `The consent token's typ header must be "${CONSENT_TOKEN_TYPE}".`, audit);
  }
  if (typeof header.kid !== 'string' || !header.kid) throw new ConsentDenial('malformed', 401, "The consent token's header names no kid.", audit);
  if (typeof claimed.iss !== 'string' || !uuid.test(claimed.iss) || !audit.jti) {
    throw new ConsentDenial('invalid_claims', 401, 'The consent token must carry iss (the grantor\'s partner id) and jti.', audit);
  }
  const grantorId = claimed.iss.toLowerCase();

  const state = await selectVerificationState(db, { grantorId, kid: header.kid, jti: audit.jti });
  const jwk = publicJwkSchema.safeParse(state.jwk);
  if (!jwk.success) {
    throw new ConsentDenial('unknown_key', 401, `The consent token is not signed by a key its issuer has registered (kid ${JSON.stringify(header.kid)}).`, audit);
  }
  if (algorithmOf(jwk.data) !== header.alg) {
    throw new ConsentDenial('algorithm_not_allowed', 401, "The consent token's alg does not match the grantor's key.", audit);
  }

  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, await importPublicKey(jwk.data), {
      algorithms: [header.alg],
      typ: CONSENT_TOKEN_TYPE,
      audience: config.EXCHANGE_ID,
      issuer: claimed.iss,
      clockTolerance: config.CONSENT_CLOCK_TOLERANCE_SECONDS,
      requiredClaims: ['iss', 'sub', 'aud', 'iat', 'nbf', 'exp', 'jti'],
    }));
  } catch (error) {
    const [reason, message] = describeVerifyFailure(error);
    throw new ConsentDenial(reason, 401, message, audit);
  }
  const signed = { jti: audit.jti, grantorId, verified: true };
  const parsed = consentClaimsSchema.safeParse(payload);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'claims'}: ${issue.message}`).join('; ');
    throw new ConsentDenial('invalid_claims', 401, `The consent token's claims are not valid: ${problems}.`, signed);
  }
  const claims = parsed.data;
  const maxLifetime = config.CONSENT_MAX_LIFETIME_DAYS * 86_400;
  if (claims.exp - claims.iat > maxLifetime) {
    throw new ConsentDenial('lifetime_too_long', 401, `The consent token lives longer than the exchange allows (${config.CONSENT_MAX_LIFETIME_DAYS} days from iat to exp).`, signed);
  }
  if (state.revoked) throw new ConsentDenial('revoked', 401, 'The consent token was revoked by its grantor.', signed);

  // The token is genuine; does it permit this request?
  if (claims.sub.toLowerCase() !== request.callerId) {
    throw new ConsentDenial('wrong_grantee', 403, 'The consent token was granted to another partner, not to the caller.', signed);
  }
  if (grantorId === request.callerId) {
    throw new ConsentDenial('own_data', 403, 'A consent token grants another partner\'s data; read your own datasets directly.', signed);
  }
  if (claims.purpose !== request.purpose) {
    throw new ConsentDenial('purpose_mismatch', 403, `The request's purpose (${request.purpose}) is not the purpose the token grants (${claims.purpose}).`, signed);
  }
  const detail = claims.authorization_details[0]!;
  if (!detail.actions.includes(request.action)) {
    throw new ConsentDenial('action_not_granted', 403, `The consent token does not grant "${request.action}" (it grants ${detail.actions.join(', ')}).`, signed);
  }
  if (detail.datasets) {
    const owned = await selectOwnedDatasetIds(db, grantorId, detail.datasets);
    if (owned.length !== new Set(detail.datasets).size) {
      throw new ConsentDenial('foreign_dataset', 403, 'The consent token names datasets its grantor cannot grant.', signed);
    }
  }
  return sealGrant({
    jti: claims.jti,
    grantorId,
    granteeId: request.callerId,
    purpose: claims.purpose,
    optIn: purposePolicies[claims.purpose] === 'opt_in',
    action: request.action,
    actions: detail.actions,
    datasets: detail.datasets ?? null,
    fields: detail.actions.includes('disclose') ? detail.fields : [],
    minGrade: detail.min_grade,
    maxResults: detail.max_results,
    expiresAt: new Date(claims.exp * 1000),
  });
}
