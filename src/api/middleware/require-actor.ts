import type { MiddlewareHandler } from 'hono';
import { AppError } from '../../errors.js';
import { authenticate } from '../../services/authenticate.js';
import type { Role } from '../../store/api-keys.js';
import type { AppEnv } from '../env.js';

/**
 * Authenticates the bearer key and, when roles are given, requires one of them.
 * @example app.openapi(createRoute({ ..., middleware: [requireActor('admin')] }), handler)
 */
export function requireActor(...roles: Role[]): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const header = c.req.header('authorization');
    const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
    if (header && !match) throw new AppError('unauthenticated', 'The Authorization header must be "Bearer <key>".');
    const actor = await authenticate({ db: c.get('deps').db, key: match?.[1] });
    c.set('actor', actor);
    if (roles.length > 0 && !roles.includes(actor.role)) {
      throw new AppError('forbidden', `This operation needs a key with the role ${roles.map((r) => `"${r}"`).join(' or ')}.`);
    }
    await next();
  };
}
