/** What operator commands share: configuration, a logger on stderr, and the exchange's database. */
import { loadConfig, type Config } from '../config.js';
import { createLogger, type Logger } from '../logger.js';
import type { ServiceContext } from '../services/context.js';
import { createExchange, type Exchange } from '../exchange.js';

export { CliError, printTable } from './output.js';

export function cliConfig(): Config {
  // Operator commands stay quiet unless LOG_LEVEL asks otherwise.
  return loadConfig({ LOG_LEVEL: 'warn', ...process.env });
}

/** Opens the configured exchange (migrated, with its keys), runs `fn` as the operator, and closes it. */
export async function withOperator<T>(fn: (ctx: ServiceContext & { exchange: Exchange }) => Promise<T>): Promise<T> {
  const config = cliConfig();
  const logger: Logger = createLogger(config.LOG_LEVEL);
  const exchange = await createExchange(config, logger, { recover: false });
  try {
    return await fn({ db: exchange.db, config, logger, actor: { type: 'operator' }, requestId: null, exchange });
  } finally {
    await exchange.close();
  }
}

export { describeFailure } from './failure.js';
