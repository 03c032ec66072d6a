/** A running exchange on a benchmark's database, with one partner and its key. */
import { startServer, type RunningServer } from '../src/api/server.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { createApiKey } from '../src/services/create-api-key.js';
import { createPartner } from '../src/services/create-partner.js';
import type { Database } from '../src/store/database.js';

export async function benchService(db: Database, env: Record<string, string> = {}): Promise<{ server: RunningServer; headers: { authorization: string } }> {
  const config = loadConfig({ PORT: '0', LOG_LEVEL: 'warn', UPLOAD_LIMIT_BYTES: String(8 * 1024 ** 3), ...env });
  const logger = createLogger('warn');
  const operator = { db, config, logger, actor: { type: 'operator' as const }, requestId: null };
  await createPartner({ ctx: operator, input: { slug: 'bench', name: 'Bench' } });
  const { key } = await createApiKey({ ctx: operator, input: { name: 'bench', partner: 'bench' } });
  const server = await startServer({ db, config, logger });
  return { server, headers: { authorization: `Bearer ${key}` } };
}
