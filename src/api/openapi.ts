/** What the route definitions share, and what the OpenAPI document says of every operation. */
import { z } from '@hono/zod-openapi';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { problemContent } from './problem.js';

/** A JSON response in a route definition. */
export function jsonResponse<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { 'application/json': { schema } } };
}

/** A 201 or 202 answer: the JSON body, and where the new resource (or the job) can be read. */
export function createdResponse<T extends z.ZodType>(schema: T, description: string) {
  return { ...jsonResponse(schema, description), headers: { Location: { description: 'The path of what was created.', schema: { type: 'string' as const } } } };
}

/** Routes that need an API key. */
export const bearerSecurity = [{ bearerAuth: [] }];
/** Routes anyone may call (health, the exchange's public keys, the published standards). */
export const publicAccess: { [name: string]: string[] }[] = [];

/**
 * The header that carries a grantor's consent token, on every route that reads another partner's
 * data. Required: a call without it is refused, with a 401 whose reason is `missing` (the service
 * says so, rather than the schema, so that the refusal names the consent rule).
 */
export const consentTokenHeader = z.object({
  'consent-token': z
    .string()
    .optional()
    .openapi({ param: { required: true }, example: 'eyJhbGciOiJFZERTQSIsInR5cCI6ImNvbnNlbnQrand0In0.…' })
    .describe("The grantor's signed consent token (JWS compact, typ consent+jwt)."),
});

export const documentInfo = {
  openapi: '3.1.0',
  info: {
    title: 'Customer Exchange API',
    version: '1.0.0',
    description: 'Exchange and match customer data between enterprises, under signed consent, with a tamper-evident audit log.',
    contact: { name: 'Customer Exchange operators', url: 'https://github.com/customer-exchange' },
    license: { name: 'UNLICENSED (proprietary)', identifier: 'LicenseRef-Proprietary' },
  },
  servers: [{ url: '/', description: 'The exchange that serves this document (a relative URL: its own origin)' }],
  tags: [
    { name: 'operations', description: 'Liveness and readiness, for orchestrators.' },
    { name: 'partners', description: 'Partner enterprises: registration (administrators) and a partner\'s own view.' },
    { name: 'keys', description: 'API keys: created, listed and revoked; a key is shown once.' },
    { name: 'consent', description: 'Signing keys, and consent tokens checked and revoked.' },
    { name: 'standards', description: 'The published customer-data standard, mapping schema and consent claims.' },
    { name: 'datasets', description: 'Datasets, uploads, records, erasure.' },
    { name: 'mappings', description: 'Mapping adapters: shipped, saved and suggested.' },
    { name: 'matching', description: 'Fuzzy matching under consent: single queries, linkage jobs and models.' },
    { name: 'audit', description: 'The verifiable audit log: events, proofs, receipts, checkpoints, export.' },
  ],
};

type RouteDefinition = { method: string; path: string; security?: unknown[]; request?: { body?: unknown }; responses: Record<string, unknown> };

/**
 * The answers every operation may give besides its own, written once: 500 anywhere; 413 where
 * the JSON body limit applies (every request body but an upload's, which has its own); 429 where
 * an API key is counted against its rate limit; and, for an operation with no client error of its
 * own (health, public keys), the generic 4XX that the app's method and body checks give.
 */
export function documentCommonResponses(app: OpenAPIHono<never>): void {
  for (const definition of app.openAPIRegistry.definitions) {
    if (definition.type !== 'route') continue;
    const route = definition.route as RouteDefinition;
    const add = (status: string, description: string) => {
      route.responses[status] ??= { description, content: problemContent };
    };
    if (route.security?.length) add('429', 'Too many requests with this API key (Retry-After says when to come back)');
    if (route.request?.body) add('413', 'Payload too large');
    if (!Object.keys(route.responses).some((status) => status.startsWith('4'))) add('4XX', 'The request could not be taken (for example a body over the size limit)');
    add('500', 'The exchange failed; quote the request id when you report it');
  }
}

/** `cursor` and `limit` of a list that pages (keyset: the cursor is the previous page's nextCursor). */
export const pageQuery = z.object({
  cursor: z.uuid().optional().describe('The nextCursor of the previous page (also in its Link: rel="next").'),
  limit: z.coerce.number().int().min(1).max(1000).default(100).describe('Items on a page.'),
});

/** The RFC 8288 Link to a list's next page, as a response documents it. */
export const nextLinkHeader = { Link: { description: 'The next page: `<…?cursor=…>; rel="next"` (RFC 8288); absent on the last page.', schema: { type: 'string' as const } } };

/** A page of a list: its items, the cursor of the next page, and the Link to it. */
export function pageResponse<T extends z.ZodType>(item: T, description: string) {
  return {
    description,
    content: { 'application/json': { schema: z.object({ items: z.array(item), nextCursor: z.string().nullable().describe('null on the last page') }) } },
    headers: nextLinkHeader,
  };
}

/**
 * The Link header to a list's next page (RFC 8288): the request's own path and query with the
 * cursor moved on; a relative reference, resolved against the request's URL.
 */
export function nextPageLink(requestUrl: string, nextCursor: string | number | null): string | undefined {
  if (nextCursor === null) return undefined;
  const url = new URL(requestUrl);
  url.searchParams.set('cursor', String(nextCursor));
  return `<${url.pathname}${url.search}>; rel="next"`;
}

/** Sets the Link to the next page on the answer (when there is one) and gives the page back. */
export function withNextLink<P extends { nextCursor: string | number | null }>(c: Context, page: P): P {
  const link = nextPageLink(c.req.url, page.nextCursor);
  if (link) c.header('link', link);
  return page;
}
