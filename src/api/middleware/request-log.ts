import type { MiddlewareHandler } from 'hono';
import type { Logger } from '../../logger.js';
import type { AppEnv } from '../env.js';

/** A W3C Trace Context `traceparent` (version 00): its trace and parent span, or nothing when malformed. */
export function parseTraceparent(header: string | undefined): { trace_id: string; span_id: string; trace_flags: string } | null {
  const match = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(header?.trim() ?? '');
  if (!match || /^0+$/.test(match[1]!) || /^0+$/.test(match[2]!)) return null;
  return { trace_id: match[1]!, span_id: match[2]!, trace_flags: match[3]! };
}

/**
 * One log line per request, in pino-http's field names (`req`, `res`, `responseTime` in ms) and,
 * when the caller sent a `traceparent`, OpenTelemetry's (`trace_id`, `span_id`, `trace_flags`, as
 * its pino instrumentation writes them). It carries ids and timings only: the route's template,
 * never the path (a path can hold a source id), and never keys, tokens or personal data.
 */
export function requestLog(logger: Logger): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const started = performance.now();
    await next();
    const status = c.res.status;
    const actor = c.get('actor');
    logger[status >= 500 ? 'error' : 'info'](
      {
        req: { id: c.get('requestId'), method: c.req.method, route: c.req.routePath },
        res: { statusCode: status },
        responseTime: Math.round((performance.now() - started) * 10) / 10,
        ...parseTraceparent(c.req.header('traceparent')),
        partnerId: actor?.partnerId ?? null,
        keyId: actor?.keyId ?? null,
        outcome: status >= 500 ? 'error' : status >= 400 ? 'rejected' : 'ok',
      },
      'request completed',
    );
  };
}
