/** The variables the middleware sets on each request, and how a route turns them into a service context. */
import type { Context } from 'hono';
import type { RequestIdVariables } from 'hono/request-id';
import type { AuditLog } from '../audit/log.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { Database } from '../store/database.js';
import type { Actor, ServiceContext } from '../services/context.js';
import type { AuthFailureTally } from '../services/auth-failures.js';
import type { RateLimits } from './rate-limits.js';

export interface AppDeps {
  db: Database;
  config: Config;
  logger: Logger;
  /** The audit log's origin and checkpoint signer (made at boot: src/exchange.ts). */
  auditLog?: AuditLog;
  /** State one exchange instance keeps across requests (made by createApp when not given). */
  state?: AppState;
}

export interface AppState {
  uploadsInFlight: Set<string>;
  rateLimits: RateLimits;
  authFailures: AuthFailureTally;
}

export type AppEnv = {
  Variables: RequestIdVariables & {
    deps: AppDeps;
    actor?: Extract<Actor, { type: 'api_key' }>;
  };
};

export function serviceContext(c: Context<AppEnv>): ServiceContext {
  const { db, config, logger, state } = c.get('deps');
  return { db, config, logger, actor: c.get('actor') ?? { type: 'system' }, requestId: c.get('requestId'), uploadsInFlight: state?.uploadsInFlight };
}
