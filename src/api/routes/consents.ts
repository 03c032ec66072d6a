/** Consent: partners' signing keys, checking and revoking tokens, the exchange's JWKS, and reading shared records. */
import { createRoute, z } from '@hono/zod-openapi';
import { exchangeJwks } from '../../audit/exchange-key.js';
import { jwksSchema } from '../../consent/jwks.js';
import { checkConsent, checkConsentInput, consentGrantSchema } from '../../services/check-consent.js';
import { getPartnerJwks } from '../../services/get-partner-jwks.js';
import { readSharedRecord } from '../../services/read-shared-record.js';
import { replacePartnerJwks } from '../../services/replace-partner-jwks.js';
import { revokeConsent, revokeConsentInput } from '../../services/revoke-consent.js';
import { purposes } from '../../standard/code-lists.js';
import type { App } from '../app.js';
import { serviceContext } from '../env.js';
import { requireActor } from '../middleware/require-actor.js';
import { bearerSecurity, consentTokenHeader, jsonResponse, publicAccess } from '../openapi.js';
import { problemResponses } from '../problem.js';
import { etagHeaders, ifNoneMatchHeader, notModifiedResponse, respondWithEntityTag } from '../conditional.js';

const jwksResponse = z.object({ keys: z.array(z.record(z.string(), z.unknown())) });

const putJwks = createRoute({
  method: 'put',
  path: '/v1/partners/me/jwks',
  operationId: 'replaceMyJwks',
  tags: ['consent'],
  summary: 'Register your public signing keys (replaces the set; keys left out are retired)',
  description: 'Ed25519 (kty OKP, alg EdDSA) and P-256 (kty EC, alg ES256) public keys, each with a kid; up to 10, so keys can rotate.',
  security: bearerSecurity,
  middleware: [requireActor('partner')] as const,
  request: { body: { required: true, content: { 'application/json': { schema: jwksSchema } } } },
  responses: { 200: jsonResponse(jwksResponse, 'The registered keys'), ...problemResponses(400, 401, 403) },
});

const getOwnJwks = createRoute({
  method: 'get',
  path: '/v1/partners/me/jwks',
  operationId: 'getMyJwks',
  tags: ['consent'],
  summary: 'Your registered public signing keys',
  description: 'The public keys the exchange checks your consent tokens against, as a JWK Set.',
  security: bearerSecurity,
  middleware: [requireActor('partner')] as const,
  responses: { 200: jsonResponse(jwksResponse, 'The keys'), ...problemResponses(401, 403) },
});

const getJwks = createRoute({
  method: 'get',
  path: '/v1/partners/{partner}/jwks',
  operationId: 'getPartnerJwks',
  tags: ['consent'],
  summary: "A partner's registered public signing keys (admin, auditor, or the partner itself)",
  description: 'A partner\'s public consent-signing keys as a JWK Set; an unknown partner, or one the caller may not see, is 404.',
  security: bearerSecurity,
  middleware: [requireActor()] as const,
  request: { params: z.object({ partner: z.string().min(1).max(100) }) },
  responses: { 200: jsonResponse(jwksResponse, 'The keys'), ...problemResponses(401, 404) },
});

const revoke = createRoute({
  method: 'post',
  path: '/v1/consents/revoke',
  operationId: 'revokeConsent',
  tags: ['consent'],
  summary: 'Revoke a consent token you signed, by jti (effective for every later request)',
  description: 'Revokes a token you signed by its jti: every later request that presents it is refused (401, reason revoked), and the revocation is audited.',
  security: bearerSecurity,
  middleware: [requireActor('partner')] as const,
  request: { body: { required: true, content: { 'application/json': { schema: revokeConsentInput } } } },
  responses: { 200: jsonResponse(z.object({ jti: z.string(), revokedAt: z.date() }), 'Revoked'), ...problemResponses(400, 401, 403) },
});

const check = createRoute({
  method: 'post',
  path: '/v1/consents/verify',
  operationId: 'verifyConsent',
  tags: ['consent'],
  summary: 'Check a consent token you were given, as a request would use it',
  description: 'Checks a consent token as a request would (signature, audience, expiry, revocation, purpose) without using it; answers its claims or the reason it would be refused.',
  security: bearerSecurity,
  middleware: [requireActor('partner')] as const,
  request: { headers: consentTokenHeader, body: { required: true, content: { 'application/json': { schema: checkConsentInput } } } },
  responses: { 200: jsonResponse(consentGrantSchema, 'The token permits this purpose and action'), ...problemResponses(400, 401, 403) },
});

const sharedRecord = createRoute({
  method: 'get',
  path: '/v1/shared/datasets/{datasetId}/records/{sourceId}',
  operationId: 'readSharedRecord',
  tags: ['consent'],
  summary: "Read a grantor's record under its consent token (granted fields only)",
  description:
    'Needs a token that grants `disclose` to you for `purpose`, covering the dataset. The answer holds only the granted fields. ' +
    "A record outside the grant, one whose own consents refuse the purpose, and one that does not exist answer alike: 404. " +
    'The ETag names the version and this cut of it: as If-None-Match, an unchanged record answers 304 with no body (the read is still checked and audited).',
  security: bearerSecurity,
  middleware: [requireActor('partner')] as const,
  request: {
    params: z.object({ datasetId: z.string().max(100), sourceId: z.string().min(1).max(200) }),
    query: z.object({ purpose: z.enum(purposes) }),
    headers: consentTokenHeader.extend(ifNoneMatchHeader.shape),
  },
  responses: {
    200: {
      ...jsonResponse(
        z.object({ datasetId: z.uuid(), sourceId: z.string(), version: z.number().int(), validFrom: z.date(), record: z.record(z.string(), z.unknown()) }),
        'The record, cut down to the granted fields',
      ),
      headers: etagHeaders,
    },
    304: notModifiedResponse,
    ...problemResponses(400, 401, 403, 404),
  },
});

const wellKnownJwks = createRoute({
  method: 'get',
  path: '/.well-known/jwks.json',
  operationId: 'getExchangeJwks',
  tags: ['consent'],
  summary: "The exchange's public signing keys",
  security: publicAccess,
  description: 'The exchange\'s public keys (checkpoint and receipt signatures), as a JWK Set.',
  responses: { 200: jsonResponse(jwksResponse, 'JWKS') },
});

export function registerConsents(app: App): void {
  app.openapi(putJwks, async (c) => c.json(await replacePartnerJwks({ ctx: serviceContext(c), input: c.req.valid('json') }), 200));
  app.openapi(getOwnJwks, async (c) => c.json(await getPartnerJwks({ ctx: serviceContext(c), idOrSlug: c.get('actor')!.partnerId! }), 200));
  app.openapi(getJwks, async (c) => c.json(await getPartnerJwks({ ctx: serviceContext(c), idOrSlug: c.req.valid('param').partner }), 200));
  app.openapi(revoke, async (c) => c.json(await revokeConsent({ ctx: serviceContext(c), input: c.req.valid('json') }), 200));
  app.openapi(check, async (c) =>
    c.json(await checkConsent({ ctx: serviceContext(c), token: c.req.valid('header')['consent-token'], input: c.req.valid('json') }), 200),
  );
  app.openapi(sharedRecord, async (c) => {
    const { datasetId, sourceId } = c.req.valid('param');
    const disclosed = await readSharedRecord({
      ctx: serviceContext(c),
      token: c.req.valid('header')['consent-token'],
      purpose: c.req.valid('query').purpose,
      datasetId,
      sourceId,
    });
    return respondWithEntityTag(c, disclosed.version, disclosed);
  });
  app.openapi(wellKnownJwks, async (c) => {
    c.header('cache-control', 'public, max-age=300');
    return c.json(await exchangeJwks(c.get('deps').db), 200);
  });
}
