/**
 * Rate limits, per exchange instance, in fixed windows: per API key, a tighter one for the match
 * routes, and failed authentications per client address (so that guessing keys is slow). Answers
 * carry the IETF draft's headers (draft-ietf-httpapi-ratelimit-headers: RateLimit-Policy and
 * RateLimit); a refusal is 429 with Retry-After.
 */
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context, MiddlewareHandler } from 'hono';
import { AppError } from '../../errors.js';
import type { AppEnv } from '../env.js';
import type { FixedWindowLimiter } from '../rate-limits.js';

/** The client's address: the socket's peer (requests made in process have none). */
export function clientAddress(c: Context<AppEnv>): string {
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** The draft's two headers, for an answer and for a refusal alike. */
function rateLimitHeaders(limiter: FixedWindowLimiter, state: { remaining: number; resetSeconds: number }): Record<string, string> {
  return {
    'ratelimit-policy': `"${limiter.name}";q=${limiter.limit};w=${limiter.windowMs / 1000}`,
    ratelimit: `"${limiter.name}";r=${state.remaining};t=${state.resetSeconds}`,
  };
}

/** Counts a request against `limiter` under `key`; past the limit, a 429 that says when to come back. */
export function spend(c: Context<AppEnv>, limiter: FixedWindowLimiter, key: string, what: string): void {
  const state = limiter.take(key);
  for (const [name, value] of Object.entries(rateLimitHeaders(limiter, state))) c.header(name, value);
  if (!state.allowed) refuse(limiter, state.resetSeconds, what);
}

/** Refuses when the next event would be over the limit, counting nothing. */
export function refuseIfSpent(limiter: FixedWindowLimiter, key: string, what: string): void {
  const state = limiter.peek(key);
  if (!state.allowed) refuse(limiter, state.resetSeconds, what);
}

function refuse(limiter: FixedWindowLimiter, resetSeconds: number, what: string): never {
  throw new AppError('too_many_requests', `Too many ${what}: at most ${limiter.limit} per ${limiter.windowMs / 1000} s. Retry after ${resetSeconds} s.`, {
    reason: 'rate_limited',
    headers: { 'retry-after': String(resetSeconds), ...rateLimitHeaders(limiter, { remaining: 0, resetSeconds }) },
  });
}

/**
 * The match routes' own budget per API key (after requireActor): each query is a look into another
 * partner's data, so it is rationed more tightly than the rest.
 */
export const matchBudget: MiddlewareHandler<AppEnv> = async (c, next) => {
  spend(c, c.get('deps').state!.rateLimits.match, c.get('actor')!.keyId, 'match queries and linkage jobs with this API key');
  await next();
};
