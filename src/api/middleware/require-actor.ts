import type { MiddlewareHandler } from 'hono';
import { AppError } from '../../errors.js';
import { authenticate } from '../../services/authenticate.js';
import type { Role } from '../../store/api-keys.js';
import type { AppEnv } from '../env.js';
import { clientAddress, refuseIfSpent, spend } from './rate-limit.js';

/**
 * Authenticates the bearer key and, when roles are given, requires one of them.
 * @example app.openapi(createRoute({ ..., middleware: [requireActor('admin')] }), handler)
 */
export function requireActor(...roles: Role[]): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const { rateLimits: limits, authFailures } = c.get('deps').state!;
    const address = clientAddress(c);
    refuseIfSpent(limits.authFailures, address, 'failed authentications from this address');
    let actor: Awaited<ReturnType<typeof authenticate>>;
    const header = c.req.header('authorization');
    const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
    try {
      if (header && !match) throw new AppError('unauthenticated', 'The Authorization header must be "Bearer <key>".');
      actor = await authenticate({ db: c.get('deps').db, key: match?.[1] });
    } catch (error) {
      if (error instanceof AppError && error.code === 'unauthenticated') {
        limits.authFailures.take(address);
        authFailures.count(header ? 'invalid_key' : 'no_key', match?.[1], address);
      }
      throw error;
    }
    c.set('actor', actor);
    spend(c, limits.perKey, actor.keyId, 'requests with this API key');
    if (roles.length > 0 && !roles.includes(actor.role)) {
      throw new AppError('forbidden', `This operation needs a key with the role ${roles.map((r) => `"${r}"`).join(' or ')}.`);
    }
    await next();
  };
}
