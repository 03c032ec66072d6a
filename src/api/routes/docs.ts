/**
 * The API reference at /docs, served whole by the exchange: Swagger UI's script and styles come
 * from the installed, pinned swagger-ui-dist package, never from a CDN, so the page works on a
 * network that reaches nothing but the exchange. The page's own script is a file too, so the
 * Content-Security-Policy allows scripts from the exchange alone.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { notFound } from '../../errors.js';
import type { App } from '../app.js';

const swaggerUiDir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
const swaggerUiVersion = (JSON.parse(readFileSync(join(swaggerUiDir, 'package.json'), 'utf8')) as { version: string }).version;

const page = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Customer Exchange API</title>
<link rel="stylesheet" href="/docs/assets/${swaggerUiVersion}/swagger-ui.css">
</head>
<body>
<div id="api-reference"></div>
<script src="/docs/assets/${swaggerUiVersion}/swagger-ui-bundle.js"></script>
<script src="/docs/assets/${swaggerUiVersion}/docs.js"></script>
</body>
</html>
`;

const init = `window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#api-reference', deepLinking: true, displayOperationId: true, tryItOutEnabled: false });\n`;

/** The files the page loads, read once on first use. */
const assets: Record<string, { type: string; body: () => string }> = {
  'swagger-ui.css': { type: 'text/css; charset=utf-8', body: () => readFileSync(join(swaggerUiDir, 'swagger-ui.css'), 'utf8') },
  'swagger-ui-bundle.js': { type: 'text/javascript; charset=utf-8', body: () => readFileSync(join(swaggerUiDir, 'swagger-ui-bundle.js'), 'utf8') },
  'docs.js': { type: 'text/javascript; charset=utf-8', body: () => init },
};
const loaded = new Map<string, string>();

const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export function registerDocs(app: App): void {
  app.get('/docs', (c) => c.html(page, 200, { 'content-security-policy': contentSecurityPolicy, 'cache-control': 'no-cache' }));
  app.get('/docs/assets/:version/:file', (c) => {
    const asset = assets[c.req.param('file')];
    if (!asset || c.req.param('version') !== swaggerUiVersion) throw notFound('That file of the API reference');
    const file = c.req.param('file');
    if (!loaded.has(file)) loaded.set(file, asset.body());
    // The version is in the path: a new package is a new URL, so the file may be kept.
    return c.body(loaded.get(file)!, 200, { 'content-type': asset.type, 'cache-control': 'public, max-age=31536000, immutable' });
  });
}
