/** API keys: partners manage their own; administrators manage everyone's. */
import { createRoute, z } from '@hono/zod-openapi';
import { createApiKey, createApiKeyInput } from '../../services/create-api-key.js';
import { listApiKeys } from '../../services/list-api-keys.js';
import { revokeApiKey } from '../../services/revoke-api-key.js';
import { apiKeySchema } from '../../store/api-keys.js';
import type { App } from '../app.js';
import { serviceContext } from '../env.js';
import { requireActor } from '../middleware/require-actor.js';
import { bearerSecurity, createdResponse, jsonResponse, pageQuery, pageResponse, withNextLink } from '../openapi.js';
import { problemResponses } from '../problem.js';

const createdKeySchema = z.object({
  apiKey: apiKeySchema,
  key: z.string().describe('The key itself. It is shown this once and never again: store it now.'),
});

const create = createRoute({
  method: 'post',
  path: '/v1/keys',
  operationId: 'createApiKey',
  tags: ['keys'],
  summary: 'Create an API key',
  description: 'Creates an API key for a partner (administrators) or for yourself; the key is in this answer only, and stored as a hash.',
  security: bearerSecurity,
  middleware: [requireActor('partner', 'admin')] as const,
  request: { body: { required: true, content: { 'application/json': { schema: createApiKeyInput } } } },
  responses: { 201: createdResponse(createdKeySchema, 'Created; the key is in `key`'), ...problemResponses(400, 401, 403, 404) },
});

const list = createRoute({
  method: 'get',
  path: '/v1/keys',
  operationId: 'listApiKeys',
  tags: ['keys'],
  summary: 'List API keys (never the keys themselves)',
  description: 'The API keys of a partner (administrators) or your own: ids, roles, creation and revocation times, never the keys.',
  security: bearerSecurity,
  middleware: [requireActor('partner', 'admin')] as const,
  request: { query: pageQuery.extend({ partner: z.string().optional().describe('Admin only: one partner\'s keys.') }) },
  responses: { 200: pageResponse(apiKeySchema, 'A page of keys, oldest first'), ...problemResponses(400, 401, 403, 404) },
});

const revoke = createRoute({
  method: 'delete',
  path: '/v1/keys/{keyId}',
  operationId: 'revokeApiKey',
  tags: ['keys'],
  summary: 'Revoke an API key, effective at once',
  description: 'Revokes an API key at once; requests with it are refused from now on.',
  security: bearerSecurity,
  middleware: [requireActor('partner', 'admin')] as const,
  request: { params: z.object({ keyId: z.string().max(100) }) },
  responses: { 200: jsonResponse(apiKeySchema, 'Revoked'), ...problemResponses(401, 403, 404) },
});

export function registerKeys(app: App): void {
  app.openapi(create, async (c) => {
    const created = await createApiKey({ ctx: serviceContext(c), input: c.req.valid('json') });
    c.header('location', `/v1/keys/${created.apiKey.id}`);
    return c.json(created, 201);
  });
  app.openapi(list, async (c) => {
    const { partner, cursor, limit } = c.req.valid('query');
    return c.json(withNextLink(c, await listApiKeys({ ctx: serviceContext(c), partner, page: { after: cursor, limit } })), 200);
  });
  app.openapi(revoke, async (c) => c.json(await revokeApiKey({ ctx: serviceContext(c), keyId: c.req.valid('param').keyId }), 200));
}
