import type { MiddlewareHandler } from 'hono';
import type { Logger } from '../../logger.js';
import type { AppEnv } from '../env.js';

/** One log line per request; it carries ids and timings only, never keys, tokens or personal data. */
export function requestLog(logger: Logger): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const started = performance.now();
    await next();
    const status = c.res.status;
    const actor = c.get('actor');
    logger[status >= 500 ? 'error' : 'info'](
      {
        requestId: c.get('requestId'),
        method: c.req.method,
        route: c.req.routePath,
        status,
        durationMs: Math.round((performance.now() - started) * 10) / 10,
        partnerId: actor?.partnerId ?? null,
        keyId: actor?.keyId ?? null,
        outcome: status >= 500 ? 'error' : status >= 400 ? 'rejected' : 'ok',
      },
      'request',
    );
  };
}
