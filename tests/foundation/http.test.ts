import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonPointer } from '../../src/errors.js';
import { createTestExchange, type TestExchange } from '../helpers/app.js';
import { engineUnderTest } from '../helpers/database.js';

describe(`HTTP basics on ${engineUnderTest}`, () => {
  let ex: TestExchange;
  beforeAll(async () => {
    ex = await createTestExchange({ BODY_LIMIT_BYTES: '2048' });
    ex.app.get('/test/boom', () => {
      throw new Error('secret internal detail: connection string postgres://admin:pw@db');
    });
  });
  afterAll(() => ex.close());

  it('answers /healthz and /readyz', async () => {
    expect(await (await ex.request('/healthz')).json()).toEqual({ status: 'ok' });
    expect(await (await ex.request('/readyz')).json()).toEqual({ status: 'ready', engine: engineUnderTest });
  });

  it('publishes an OpenAPI 3.1 document built from the route schemas, and a reference page', async () => {
    const doc = (await (await ex.request('/openapi.json')).json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/healthz', '/readyz', '/v1/partners', '/v1/keys', '/v1/keys/{keyId}']));
    expect(JSON.stringify(doc.paths['/v1/partners']!.post)).toContain('application/problem+json');
    // What generated clients need: a unique operationId each, the problem schema once, Location on what creates.
    type Operation = { operationId?: string; security?: unknown[]; responses: Record<string, { headers?: Record<string, unknown>; content?: Record<string, { schema: { $ref?: string } }> }> };
    const operations = Object.values(doc.paths).flatMap((methods) => Object.values(methods) as Operation[]);
    const ids = operations.map((o) => o.operationId);
    expect(ids.every((id) => typeof id === 'string' && /^[a-z][A-Za-z]+$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    for (const operation of operations) {
      expect(operation.responses['500']?.content?.['application/problem+json']?.schema.$ref).toBe('#/components/schemas/Problem');
      for (const status of ['201', '202']) if (operation.responses[status]) expect(Object.keys(operation.responses[status].headers ?? {}), operation.operationId).toContain('Location');
      expect(Array.isArray(operation.security), `${operation.operationId} says who may call it`).toBe(true);
    }
    const match = doc.paths['/v1/match']!.post as Operation & { parameters: { name: string; required: boolean }[] };
    expect(match.parameters.find((p) => p.name === 'consent-token')?.required).toBe(true);
    expect(Object.keys(match.responses['200']!.content!)).toEqual(['application/json', 'application/fhir+json']);
  });

  it('serves the API reference page and everything it loads itself, from the pinned package, with no CDN', async () => {
    const page = await ex.request('/docs');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.headers.get('content-security-policy')).toMatch(/script-src 'self';/);
    const html = await page.text();
    const loads = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(loads).toHaveLength(3);
    const { version } = JSON.parse(readFileSync(join(import.meta.dirname, '../../node_modules/swagger-ui-dist/package.json'), 'utf8')) as { version: string };
    for (const path of loads) {
      expect(path, 'every script and style comes from the exchange').toMatch(new RegExp(`^/docs/assets/${version.replace(/\./g, '\\.')}/`));
      const asset = await ex.request(path);
      expect(asset.status, path).toBe(200);
      expect(asset.headers.get('content-type')).toMatch(/^text\/(css|javascript)/);
      const body = await asset.text();
      // The installed package's own file, byte for byte (booleans: a failure should not print 1.7 MB).
      if (path.endsWith('docs.js')) expect(body).toContain("url: '/openapi.json'");
      else expect(body === readFileSync(join(import.meta.dirname, '../../node_modules/swagger-ui-dist', path.split('/').at(-1)!), 'utf8'), path).toBe(true);
    }
    expect((await ex.request(`/docs/assets/${version}/package.json`)).status).toBe(404);
    expect((await ex.request('/docs/assets/0.0.1/swagger-ui.css')).status).toBe(404);
  });

  it('echoes a request id, or makes one', async () => {
    const given = await ex.request('/healthz', { headers: { 'x-request-id': 'trace-123' } });
    expect(given.headers.get('x-request-id')).toBe('trace-123');
    const made = await ex.request('/healthz');
    expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers unknown routes with a 404 problem', async () => {
    const response = await ex.request('/v1/nothing-here', { headers: { 'x-request-id': 'r-404' } });
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    expect(await response.json()).toEqual({
      type: 'urn:customer-exchange:problem:not_found',
      title: 'Not found',
      status: 404,
      detail: 'There is no GET /v1/nothing-here; see /docs for the API.',
      instance: '/v1/nothing-here',
      requestId: 'r-404',
    });
  });

  it('answers invalid fields with a 400 naming each by its JSON Pointer, and where it is when not in the body', async () => {
    const response = await ex.request('/v1/partners', { method: 'POST', key: ex.adminKey, json: { slug: 'Bad Slug!', name: '' } });
    expect(response.status).toBe(400);
    const problem = (await response.json()) as { errors: { path: string; message: string; in?: string }[] };
    expect(problem.errors.map((e) => e.path).sort()).toEqual(['/name', '/slug']);
    expect(problem.errors.find((e) => e.path === '/slug')!.message).toMatch(/lowercase/);
    expect(problem.errors.every((e) => e.in === undefined)).toBe(true);
    const inQuery = (await (await ex.request('/v1/audit/events?limit=many', { key: ex.adminKey })).json()) as { errors: { path: string; in?: string }[] };
    expect(inQuery.errors).toContainEqual(expect.objectContaining({ path: '/limit', in: 'query' }));
  });

  it('writes JSON Pointers by RFC 6901: ~ and / escaped, array indices as segments', () => {
    expect(jsonPointer(['name', 'family'])).toBe('/name/family');
    expect(jsonPointer(['rules', 3, 'a/b~c'])).toBe('/rules/3/a~1b~0c');
    expect(jsonPointer([])).toBe('');
  });

  it('answers malformed JSON and a missing body with a 400', async () => {
    const malformed = await ex.request('/v1/partners', {
      method: 'POST',
      key: ex.adminKey,
      headers: { 'content-type': 'application/json' },
      body: '{"slug": ',
    });
    expect(malformed.status).toBe(400);
    expect(malformed.headers.get('content-type')).toBe('application/problem+json');
    const missing = await ex.request('/v1/partners', { method: 'POST', key: ex.adminKey });
    expect(missing.status).toBe(400);
  });

  it('answers a body over the limit with a 413', async () => {
    const response = await ex.request('/v1/partners', { method: 'POST', key: ex.adminKey, json: { slug: 'big', name: 'x'.repeat(5000) } });
    expect(response.status).toBe(413);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    expect(((await response.json()) as { detail: string }).detail).toContain('2048 bytes');
  });

  it('holds the limit over a socket, whether the body declares its length or comes in chunks', async () => {
    // Over HTTP, not app.request: the server reads a declared length's JSON itself, and counts a chunked body.
    const server = serve({ fetch: ex.app.fetch, port: 0, hostname: '127.0.0.1' });
    await once(server, 'listening');
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/partners`;
    const headers = { authorization: `Bearer ${ex.adminKey}`, 'content-type': 'application/json' };
    const chunked = (text: string) => new ReadableStream({ start: (c) => (c.enqueue(new TextEncoder().encode(text)), c.close()) });
    try {
      const big = JSON.stringify({ slug: 'big-socket', name: 'x'.repeat(5000) });
      const declared = await fetch(url, { method: 'POST', headers, body: big });
      expect(declared.status).toBe(413);
      expect(((await declared.json()) as { detail: string }).detail).toContain('2048 bytes');
      const streamed = await fetch(url, { method: 'POST', headers, body: chunked(big), duplex: 'half' } as RequestInit);
      expect(streamed.status).toBe(413);
      await streamed.body?.cancel();
      // Within the limit both ways are read and answered.
      const small = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ slug: 'small-declared', name: 'Small' }) });
      expect(small.status).toBe(201);
      const smallChunked = await fetch(url, { method: 'POST', headers, body: chunked(JSON.stringify({ slug: 'small-chunked', name: 'Small' })), duplex: 'half' } as RequestInit);
      expect(smallChunked.status).toBe(201);
      // Malformed JSON read off the socket is the same 400 as through app.request.
      const malformed = await fetch(url, { method: 'POST', headers, body: '{"slug": ' });
      expect(malformed.status).toBe(400);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('answers an unexpected failure with a 500 that carries the request id and no internals', async () => {
    const response = await ex.request('/test/boom', { headers: { 'x-request-id': 'r-500' } });
    expect(response.status).toBe(500);
    const text = await response.text();
    expect(text).not.toContain('secret');
    expect(text).not.toContain('postgres://');
    expect(JSON.parse(text)).toMatchObject({ status: 500, requestId: 'r-500', detail: expect.stringContaining('request id') });
  });

  it('logs one line per request without keys', async () => {
    await ex.request('/v1/partners', { key: ex.adminKey, headers: { 'x-request-id': 'r-log', traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' } });
    const lines = ex.logs.filter((l) => (l.req as { id?: string } | undefined)?.id === 'r-log' && l.msg === 'request completed');
    expect(lines).toHaveLength(1);
    // pino-http's names, and OpenTelemetry's for the trace the caller sent.
    expect(lines[0]).toMatchObject({
      req: { id: 'r-log', method: 'GET', route: '/v1/partners' },
      res: { statusCode: 200 },
      trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
      span_id: '00f067aa0ba902b7',
      trace_flags: '01',
    });
    expect(typeof lines[0]!.responseTime).toBe('number');
    expect(JSON.stringify(ex.logs)).not.toContain(ex.adminKey);
    // A malformed traceparent is ignored, not logged.
    await ex.request('/healthz', { headers: { 'x-request-id': 'r-bad-trace', traceparent: '00-zz-00f067aa0ba902b7-01' } });
    const bad = ex.logs.find((l) => (l.req as { id?: string } | undefined)?.id === 'r-bad-trace')!;
    expect(bad.trace_id).toBeUndefined();
  });
});
