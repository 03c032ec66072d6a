/** The published standard: public, so partners can build their exports against it before they join. */
import { createRoute, z } from '@hono/zod-openapi';
import { customerDictionary, customerDictionaryMarkdown, customerJsonSchema, standardsIndex } from '../../standard/publish.js';
import { codeLists } from '../../standard/code-lists.js';
import { AppError } from '../../errors.js';
import { consentReadmeMarkdown } from '../../consent/publish.js';
import { consentClaimsJsonSchema } from '../../consent/token.js';
import type { App } from '../app.js';
import { publicAccess } from '../openapi.js';
import { problemResponses } from '../problem.js';

const standardSchema = z.object({ name: z.string(), version: z.string(), major: z.number(), schema: z.string(), dictionary: z.string() });

const index = createRoute({
  method: 'get',
  path: '/v1/standards',
  operationId: 'listStandards',
  tags: ['standards'],
  summary: 'The published standards and their versions',
  security: publicAccess,
  description: 'The standards the exchange publishes (customer record, mapping, consent claims) and their versions.',
  responses: { 200: { description: 'Standards', content: { 'application/json': { schema: z.object({ items: z.array(standardSchema), codeLists: z.record(z.string(), z.array(z.string())) }) } } } },
});

const params = z.object({ name: z.string().max(50), major: z.string().regex(/^\d+$/) });

const schema = createRoute({
  method: 'get',
  path: '/v1/standards/{name}/{major}',
  operationId: 'getStandardSchema',
  tags: ['standards'],
  summary: 'A standard\'s JSON Schema (2020-12)',
  security: publicAccess,
  description: 'A published standard as JSON Schema (draft 2020-12); may be cached.',
  request: { params },
  responses: {
    200: { description: 'JSON Schema', content: { 'application/schema+json': { schema: z.record(z.string(), z.unknown()) } } },
    ...problemResponses(404),
  },
});

const dictionary = createRoute({
  method: 'get',
  path: '/v1/standards/{name}/{major}/dictionary',
  operationId: 'getStandardDictionary',
  tags: ['standards'],
  summary: 'A standard\'s field dictionary: JSON, or Markdown with Accept: text/markdown',
  security: publicAccess,
  description: 'A standard\'s field dictionary: every field, its type, meaning and code list; JSON, or Markdown with Accept: text/markdown.',
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

/** Each published standard by name and major version: its JSON Schema, dictionary entries and Markdown. */
const publications: Record<string, { schema: () => object; entries: () => object[]; markdown: () => string }> = {
  'customer/1': { schema: customerJsonSchema, entries: customerDictionary, markdown: customerDictionaryMarkdown },
  'consent/1': {
    schema: consentClaimsJsonSchema,
    entries: () => Object.entries((consentClaimsJsonSchema().properties ?? {}) as Record<string, object>).map(([claim, node]) => ({ claim, ...node })),
    markdown: consentReadmeMarkdown,
  },
};

const publishedIndex = [
  ...standardsIndex,
  { name: 'consent', version: '1.0.0', major: 1, schema: '/v1/standards/consent/1', dictionary: '/v1/standards/consent/1/dictionary' },
];

function publication(name: string, major: string) {
  const found = publications[`${name}/${major}`];
  if (!found) throw new AppError('not_found', `There is no standard "${name}" version ${major}; see GET /v1/standards.`);
  return found;
}

export function registerStandards(app: App): void {
  app.openapi(index, (c) => c.json({ items: publishedIndex, codeLists: codeLists as unknown as Record<string, string[]> }, 200));
  app.openapi(schema, (c) => {
    const { name, major } = c.req.valid('param');
    return c.json(publication(name, major).schema() as Record<string, unknown>, 200, { 'content-type': 'application/schema+json' });
  });
  app.openapi(dictionary, (c) => {
    const { name, major } = c.req.valid('param');
    const published = publication(name, major);
    if ((c.req.header('accept') ?? '').includes('text/markdown')) {
      return c.body(published.markdown(), 200, { 'content-type': 'text/markdown; charset=utf-8' });
    }
    return c.json({ items: published.entries() as Record<string, unknown>[] }, 200);
  });
}
