/** The published standard: public, so partners can build their exports against it before they join. */
import { createRoute, z } from '@hono/zod-openapi';
import { customerDictionary, customerDictionaryMarkdown, customerJsonSchema, standardsIndex } from '../../standard/publish.js';
import { codeLists } from '../../standard/code-lists.js';
import { AppError } from '../../errors.js';
import type { App } from '../app.js';
import { problemResponses } from '../problem.js';

const standardSchema = z.object({ name: z.string(), version: z.string(), major: z.number(), schema: z.string(), dictionary: z.string() });

const index = createRoute({
  method: 'get',
  path: '/v1/standards',
  tags: ['standards'],
  summary: 'The published standards and their versions',
  responses: { 200: { description: 'Standards', content: { 'application/json': { schema: z.object({ items: z.array(standardSchema), codeLists: z.record(z.string(), z.array(z.string())) }) } } } },
});

const params = z.object({ name: z.string().max(50), major: z.string().regex(/^\d+$/) });

const schema = createRoute({
  method: 'get',
  path: '/v1/standards/{name}/{major}',
  tags: ['standards'],
  summary: 'A standard\'s JSON Schema (2020-12)',
  request: { params },
  responses: {
    200: { description: 'JSON Schema', content: { 'application/schema+json': { schema: z.record(z.string(), z.unknown()) } } },
    ...problemResponses(404),
  },
});

const dictionary = createRoute({
  method: 'get',
  path: '/v1/standards/{name}/{major}/dictionary',
  tags: ['standards'],
  summary: 'A standard\'s field dictionary: JSON, or Markdown with Accept: text/markdown',
  request: { params },
  responses: {
    200: {
      description: 'Field dictionary',
      content: {
        'application/json': { schema: z.object({ items: z.array(z.record(z.string(), z.unknown())) }) },
        'text/markdown': { schema: z.string() },
      },
    },
    ...problemResponses(404),
  },
});

function requireKnown(name: string, major: string): void {
  if (!standardsIndex.some((s) => s.name === name && String(s.major) === major)) {
    throw new AppError('not_found', `There is no standard "${name}" version ${major}; see GET /v1/standards.`);
  }
}

export function registerStandards(app: App): void {
  app.openapi(index, (c) => c.json({ items: standardsIndex, codeLists: codeLists as unknown as Record<string, string[]> }, 200));
  app.openapi(schema, (c) => {
    const { name, major } = c.req.valid('param');
    requireKnown(name, major);
    return c.json(customerJsonSchema() as Record<string, unknown>, 200, { 'content-type': 'application/schema+json' });
  });
  app.openapi(dictionary, (c) => {
    const { name, major } = c.req.valid('param');
    requireKnown(name, major);
    if ((c.req.header('accept') ?? '').includes('text/markdown')) {
      return c.body(customerDictionaryMarkdown(), 200, { 'content-type': 'text/markdown; charset=utf-8' });
    }
    return c.json({ items: customerDictionary() as unknown as Record<string, unknown>[] }, 200);
  });
}
