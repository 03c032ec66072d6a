import { createRoute, z } from '@hono/zod-openapi';
import { AppError } from '../../errors.js';
import { pendingMigrations } from '../../store/migrate.js';
import type { App } from '../app.js';
import { publicAccess } from '../openapi.js';
import { problemResponses } from '../problem.js';

class ReadyTimeout extends Error {}

const healthSchema = z.object({ status: z.literal('ok') });
const readySchema = z.object({ status: z.literal('ready'), engine: z.enum(['pglite', 'postgres']) });

const healthz = createRoute({
  method: 'get',
  path: '/healthz',
  operationId: 'getHealth',
  tags: ['operations'],
  summary: 'The process is up',
  security: publicAccess,
  description: 'Answers 200 while the process runs; says nothing of the database (see /readyz).',
  responses: { 200: { description: 'Up', content: { 'application/json': { schema: healthSchema } } } },
});

const readyz = createRoute({
  method: 'get',
  path: '/readyz',
  operationId: 'getReadiness',
  tags: ['operations'],
  summary: 'The database answers and every migration is applied',
  security: publicAccess,
  description: 'Answers 200 once the database answers and every migration is applied, 503 otherwise; for load balancers and orchestrators.',
  responses: {
    200: { description: 'Ready', content: { 'application/json': { schema: readySchema } } },
    ...problemResponses(503),
  },
});

export function registerHealth(app: App): void {
  app.openapi(healthz, (c) => c.json({ status: 'ok' as const }, 200));
  app.openapi(readyz, async (c) => {
    const { db, config } = c.get('deps');
    let pending: string[];
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ReadyTimeout()), config.READY_TIMEOUT_MS);
    });
    try {
      // A pool whose every connection is taken queues the check; past the timeout, it is not ready.
      pending = await Promise.race([db.query('SELECT 1').then(() => pendingMigrations(db)), timeout]);
    } catch (error) {
      if (error instanceof ReadyTimeout) {
        throw new AppError('unavailable', `The database did not answer within ${config.READY_TIMEOUT_MS} ms: every connection is busy.`);
      }
      throw new AppError('unavailable', 'The database does not answer.', { cause: error });
    } finally {
      clearTimeout(timer);
    }
    if (pending.length > 0) throw new AppError('unavailable', `Migrations are pending: ${pending.join(', ')}. Run "cx migrate".`);
    return c.json({ status: 'ready' as const, engine: db.engine }, 200);
  });
}
