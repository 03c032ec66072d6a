/** Partner registration (administrators) and a partner's view of itself. */
import { createRoute, z } from '@hono/zod-openapi';
import { createPartner, createPartnerInput } from '../../services/create-partner.js';
import { getPartner } from '../../services/get-partner.js';
import { listPartners } from '../../services/list-partners.js';
import { partnerSchema } from '../../store/partners.js';
import type { App } from '../app.js';
import { serviceContext } from '../env.js';
import { requireActor } from '../middleware/require-actor.js';
import { bearerSecurity, createdResponse, jsonResponse, pageQuery, pageResponse, withNextLink } from '../openapi.js';
import { problemResponses } from '../problem.js';


const create = createRoute({
  method: 'post',
  path: '/v1/partners',
  operationId: 'createPartner',
  tags: ['partners'],
  summary: 'Register a partner enterprise (admin)',
  description: 'Registers a partner enterprise by slug and name; administrators only. The slug is unique.',
  security: bearerSecurity,
  middleware: [requireActor('admin')] as const,
  request: { body: { required: true, content: { 'application/json': { schema: createPartnerInput } } } },
  responses: { 201: createdResponse(partnerSchema, 'Registered'), ...problemResponses(400, 401, 403, 409) },
});

const list = createRoute({
  method: 'get',
  path: '/v1/partners',
  operationId: 'listPartners',
  tags: ['partners'],
  summary: 'List partners (admin, auditor)',
  description: 'Every registered partner; administrators and auditors only.',
  security: bearerSecurity,
  middleware: [requireActor('admin', 'auditor')] as const,
  request: { query: pageQuery },
  responses: { 200: pageResponse(partnerSchema, 'A page of partners, by slug'), ...problemResponses(400, 401, 403) },
});

const me = createRoute({
  method: 'get',
  path: '/v1/partners/me',
  operationId: 'getMyPartner',
  tags: ['partners'],
  summary: 'The partner the key acts for',
  description: 'The partner the API key acts for.',
  security: bearerSecurity,
  middleware: [requireActor('partner')] as const,
  responses: { 200: jsonResponse(partnerSchema, 'The partner'), ...problemResponses(401, 403) },
});

const get = createRoute({
  method: 'get',
  path: '/v1/partners/{partner}',
  operationId: 'getPartner',
  tags: ['partners'],
  summary: 'One partner, by id or slug',
  description: 'One partner by id or slug. A partner sees itself; administrators and auditors see any. Anything else is 404.',
  security: bearerSecurity,
  middleware: [requireActor()] as const,
  request: { params: z.object({ partner: z.string().min(1).max(100) }) },
  responses: { 200: jsonResponse(partnerSchema, 'The partner'), ...problemResponses(401, 404) },
});

export function registerPartners(app: App): void {
  app.openapi(create, async (c) => {
    const partner = await createPartner({ ctx: serviceContext(c), input: c.req.valid('json') });
    c.header('location', `/v1/partners/${partner.id}`);
    return c.json(partner, 201);
  });
  app.openapi(list, async (c) => {
    const { cursor, limit } = c.req.valid('query');
    return c.json(withNextLink(c, await listPartners({ ctx: serviceContext(c), page: { after: cursor, limit } })), 200);
  });
  app.openapi(me, async (c) => c.json(await getPartner({ ctx: serviceContext(c), idOrSlug: c.get('actor')!.partnerId! }), 200));
  app.openapi(get, async (c) => c.json(await getPartner({ ctx: serviceContext(c), idOrSlug: c.req.valid('param').partner }), 200));
}
