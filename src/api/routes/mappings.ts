/** Mapping drafts: a partner sends the first rows of an export and gets a mapping to review. */
import { createRoute, z } from '@hono/zod-openapi';
import { suggestMappingFor } from '../../services/suggest-mapping.js';
import type { App } from '../app.js';
import { serviceContext } from '../env.js';
import { requireActor } from '../middleware/require-actor.js';
import { bearerSecurity, jsonResponse } from '../openapi.js';
import { problemResponses } from '../problem.js';

const suggestion = z.object({
  mapping: z.record(z.string(), z.unknown()).describe('A valid mapping: one rule per matched column, each with its confidence; unmatched columns in $comment.'),
  columns: z.array(z.object({ column: z.string(), target: z.string().nullable(), confidence: z.number() })),
});

const suggest = createRoute({
  method: 'post',
  path: '/v1/mappings/suggest',
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

export function registerMappings(app: App): void {
  app.openapi(suggest, async (c) => {
    const bytes = Buffer.from(await c.req.arrayBuffer());
    return c.json(suggestMappingFor({ ctx: serviceContext(c), name: c.req.valid('query').name, bytes }) as z.infer<typeof suggestion>, 200);
  });
}
