/** Mappings: the shipped adapters and a partner's own, and drafts made from the first rows of an export. */
import { createRoute, z } from '@hono/zod-openapi';
import { getMapping, listMappings, saveMapping } from '../../services/mappings.js';
import { suggestMappingFor } from '../../services/suggest-mapping.js';
import type { App } from '../app.js';
import { serviceContext } from '../env.js';
import { requireActor } from '../middleware/require-actor.js';
import { bearerSecurity, createdResponse, jsonResponse } from '../openapi.js';
import { problemResponses } from '../problem.js';

const suggestion = z.object({
  mapping: z.record(z.string(), z.unknown()).describe('A valid mapping: one rule per matched column, each with its confidence; unmatched columns in $comment.'),
  columns: z.array(z.object({ column: z.string(), target: z.string().nullable(), confidence: z.number() })),
});

const suggest = createRoute({
  method: 'post',
  path: '/v1/mappings/suggest',
  operationId: 'suggestMapping',
  tags: ['mappings'],
  summary: "Draft a mapping from an export's header and first rows",
  description: 'The body is the start of a CSV export (its header and some rows; up to BODY_LIMIT_BYTES), in any encoding (detected). Review the draft, then upload with it.',
  security: bearerSecurity,
  middleware: [requireActor('partner')] as const,
  request: {
    query: z.object({ name: z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/).default('suggested').describe('The name the draft gets.') }),
    body: { required: true, content: { 'text/csv': { schema: z.string() } } },
  },
  responses: { 200: jsonResponse(suggestion, 'The draft'), ...problemResponses(400, 401, 403, 413) },
});

const summary = z.object({
  name: z.string(),
  origin: z.enum(['shipped', 'partner']),
  format: z.string(),
  description: z.string().nullable(),
  updatedAt: z.date().nullable(),
});

const list = createRoute({
  method: 'get',
  path: '/v1/mappings',
  operationId: 'listMappings',
  tags: ['mappings'],
  summary: 'The shipped mappings and yours',
  description: 'The mappings shipped with the exchange and the ones you saved, by name.',
  security: bearerSecurity,
  middleware: [requireActor('partner')] as const,
  responses: { 200: jsonResponse(z.object({ items: z.array(summary) }), 'Mappings'), ...problemResponses(401, 403) },
});

const save = createRoute({
  method: 'post',
  path: '/v1/mappings',
  operationId: 'saveMapping',
  tags: ['mappings'],
  summary: 'Save one of your mappings (validated; replaces yours of the same name)',
  description: 'The body is the mapping itself (see standards/mapping/v1/schema.json). Its name must not be a shipped mapping\'s. Datasets and uploads then name it.',
  security: bearerSecurity,
  middleware: [requireActor('partner')] as const,
  request: { body: { required: true, content: { 'application/json': { schema: z.record(z.string(), z.unknown()) } } } },
  responses: { 201: createdResponse(z.record(z.string(), z.unknown()), 'Saved'), 200: jsonResponse(z.record(z.string(), z.unknown()), 'Replaced'), ...problemResponses(400, 401, 403, 409) },
});

const get = createRoute({
  method: 'get',
  path: '/v1/mappings/{name}',
  operationId: 'getMapping',
  tags: ['mappings'],
  summary: 'A mapping you may use, as JSON',
  description: 'One mapping you may use (shipped or yours), as the JSON it was saved as.',
  security: bearerSecurity,
  middleware: [requireActor('partner')] as const,
  request: { params: z.object({ name: z.string().max(100) }) },
  responses: { 200: jsonResponse(z.record(z.string(), z.unknown()), 'The mapping'), ...problemResponses(401, 403, 404) },
});

export function registerMappings(app: App): void {
  app.openapi(list, async (c) => c.json({ items: await listMappings({ ctx: serviceContext(c) }) }, 200));
  app.openapi(save, async (c) => {
    const { mapping, created } = await saveMapping({ ctx: serviceContext(c), input: c.req.valid('json') });
    c.header('location', `/v1/mappings/${mapping.name}`);
    return c.json(mapping as unknown as Record<string, unknown>, created ? 201 : 200);
  });
  app.openapi(get, async (c) => c.json((await getMapping({ ctx: serviceContext(c), name: c.req.valid('param').name })) as unknown as Record<string, unknown>, 200));
  app.openapi(suggest, async (c) => {
    const bytes = Buffer.from(await c.req.arrayBuffer());
    return c.json(suggestMappingFor({ ctx: serviceContext(c), name: c.req.valid('query').name, bytes }) as z.infer<typeof suggestion>, 200);
  });
}
