import type { Command } from 'commander';
import { pino } from 'pino';
import { loadConfig } from '../../config.js';
import { createLogger } from '../../logger.js';
import { startServer } from '../../api/server.js';
import { createExchange, startBackground } from '../../exchange.js';
import { ensureAdminKey } from '../../services/ensure-admin-key.js';
import { describeDatabase } from '../../store/open.js';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('start the HTTP service (embedded database unless DATABASE_URL is set)')
    .option('-p, --port <port>', 'port to listen on (overrides PORT)')
    .action(async (options: { port?: string }) => {
      const config = loadConfig({ ...process.env, ...(options.port ? { PORT: options.port } : {}) });
      // The service logs to stdout, one JSON line per entry (12-factor); other commands keep stdout for their output.
      const logger = createLogger(config.LOG_LEVEL, pino.destination({ fd: 1, sync: false }));
      const exchange = await createExchange(config, logger, { recover: true });
      const { db } = exchange;
      try {
        logger.info({ database: describeDatabase(config) }, 'database ready');
        const keyFile = await ensureAdminKey({ ctx: { db, config, logger, actor: { type: 'system' }, requestId: null } });
        if (config.DATABASE_URL && !config.EXCHANGE_SECRET) {
          // Several processes on one server each reading their own DATA_DIR would hold different secrets.
          logger.warn({ secretFile: 'DATA_DIR/exchange.secret' }, 'no EXCHANGE_SECRET: the secret file under DATA_DIR is used; give every process sharing this database the same EXCHANGE_SECRET');
        }
        if (keyFile) logger.info({ keyFile }, 'new exchange: the first admin key was written to this file');
      } catch (error) {
        await exchange.close();
        throw error;
      }
      const server = await startServer({ db, config, logger, auditLog: exchange.auditLog }, { background: startBackground(exchange) });
      logger.info({ url: server.url, docs: `${server.url}/docs`, database: describeDatabase(config) }, `customer exchange listening on ${server.url}`);
      const stop = (signal: string) => {
        server.shutdown(signal).then(
          () => logger.flush(() => process.exit(0)),
          (error) => {
            logger.error({ err: error }, 'shutdown failed');
            process.exit(1);
          },
        );
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
    });
}
