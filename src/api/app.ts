/** The app factory: one place owns validation, errors, request ids, logging and the OpenAPI document. */
import { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { requestId } from 'hono/request-id';
import { AppError, jsonPointer } from '../errors.js';
import type { Config } from '../config.js';
import { createLogger } from '../logger.js';
import type { Database } from '../store/database.js';
import type { AppDeps, AppState, AppEnv } from './env.js';
import { createRateLimits } from './rate-limits.js';
import { requestLog } from './middleware/request-log.js';
import { problemResponse, toAppError } from './problem.js';
import { documentCommonResponses, documentInfo } from './openapi.js';
import { registerDocs } from './routes/docs.js';
import { registerRoutes } from './routes/index.js';
import { authFailureTally } from '../services/auth-failures.js';

export type App = OpenAPIHono<AppEnv>;

/** The methods the app's routes answer on a path (for 405 and Allow), from its own route table. */
function allowedMethods(app: App): (path: string) => string[] {
  let routes: { pattern: RegExp; method: string }[] | undefined;
  return (path) => {
    routes ??= app.routes
      .filter((r) => r.method !== 'ALL')
      .map((r) => ({
        method: r.method,
        pattern: new RegExp(`^${r.path.replace(/[.+?^$()[\]\\|]/g, '\\$&').replace(/:[A-Za-z0-9_]+(\{[^}]*\})?/g, '[^/]+').replace(/\*/g, '.*')}$`),
      }));
    const methods = new Set(routes.filter((r) => r.pattern.test(path)).map((r) => r.method));
    if (methods.has('GET')) methods.add('HEAD');
    return [...methods].sort();
  };
}

/** What one exchange instance keeps across requests. */
export function createAppState(deps: Pick<AppDeps, 'db' | 'config' | 'logger'>): AppState {
  return { uploadsInFlight: new Set(), rateLimits: createRateLimits(deps.config), authFailures: authFailureTally(deps) };
}

export function createApp(given: AppDeps): App {
  const deps: AppDeps = { ...given, state: given.state ?? createAppState(given) };
  const app = new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        const where = ({ query: 'query', header: 'header', param: 'path' } as const)[result.target as 'query' | 'header' | 'param'];
        throw new AppError('validation_failed', 'Some fields of the request are not valid; see errors[].', {
          errors: result.error.issues.map((issue) => ({ path: jsonPointer(issue.path), message: issue.message, ...(where ? { in: where } : {}) })),
        });
      }
    },
  });

  app.use('*', requestId({ limitLength: 200 }));
  app.use('*', async (c, next) => {
    c.set('deps', deps);
    await next();
  });
  app.use('*', requestLog(deps.logger));
  // Partners' answers carry personal data (records, matches, reports, links): no cache keeps them.
  // Only the published standards may be cached.
  app.use('/v1/*', async (c, next) => {
    await next();
    if (!c.req.path.startsWith('/v1/standards') && !c.res.headers.has('cache-control')) c.res.headers.set('cache-control', 'no-store');
  });
  const jsonBodyLimitError = (c: Context<AppEnv>) => problemResponse(c, new AppError('payload_too_large', `The request body is larger than the limit of ${deps.config.BODY_LIMIT_BYTES} bytes.`));
  const jsonBodyLimit = bodyLimit({ maxSize: deps.config.BODY_LIMIT_BYTES, onError: jsonBodyLimitError });
  // Uploads stream under their own, larger limit (UPLOAD_LIMIT_BYTES, counted as they arrive).
  const isUpload = (method: string, path: string) => method === 'POST' && /^\/v1\/datasets\/[^/]+\/uploads$/.test(path);
  app.use('*', async (c, next) => {
    if (c.req.method === 'GET' || c.req.method === 'HEAD' || isUpload(c.req.method, c.req.path)) return next();
    // A declared length is checked as it stands (Node's parser reads no more than it declares), as
    // bodyLimit would: bodyLimit first asks for the body as a stream, which makes @hono/node-server
    // build a whole Request for every call instead of reading the JSON straight off the socket.
    const length = c.req.header('content-length');
    if (length !== undefined && /^\d+$/.test(length) && c.req.header('transfer-encoding') === undefined) {
      return Number(length) > deps.config.BODY_LIMIT_BYTES ? jsonBodyLimitError(c) : next();
    }
    return jsonBodyLimit(c, next);
  });

  registerRoutes(app);

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    description: 'An API key created with `cx keys create` or `POST /v1/keys`.',
  });
  documentCommonResponses(app as never);
  app.doc31('/openapi.json', documentInfo);
  registerDocs(app);

  const allowed = allowedMethods(app);
  app.notFound((c) => {
    const methods = allowed(c.req.path);
    if (methods.length) {
      return problemResponse(c, new AppError('method_not_allowed', `${c.req.path} answers ${methods.join(', ')}, not ${c.req.method}; see /docs for the API.`, { headers: { allow: methods.join(', ') } }));
    }
    return problemResponse(c, new AppError('not_found', `There is no ${c.req.method} ${c.req.path}; see /docs for the API.`));
  });
  app.onError((error, c) => {
    const appError = toAppError(error);
    if (appError.code === 'internal') {
      deps.logger.error({ req: { id: c.get('requestId') }, err: error }, 'unhandled error');
    }
    return problemResponse(c, appError);
  });
  return app;
}

/**
 * The OpenAPI document, without a running exchange (`cx openapi`, the linters, the CLI's typed
 * client): the app's routes are only described, never called, so it needs no database.
 */
export function apiDocument(config: Config): ReturnType<App['getOpenAPI31Document']> {
  const db = new Proxy({} as Database, { get: () => { throw new Error('the OpenAPI document needs no database'); } });
  return createApp({ db, config, logger: createLogger('silent') }).getOpenAPI31Document(documentInfo);
}
