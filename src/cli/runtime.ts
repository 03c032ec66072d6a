/** What CLI commands share: configuration, a logger on stderr, the database, and one-line errors. */
import { loadConfig, type Config } from '../config.js';
import { ConsentToolError } from '../consent/mint.js';
import { ZodError } from 'zod';
import { AppError, invalidInput } from '../errors.js';
import { createLogger, type Logger } from '../logger.js';
import type { ServiceContext } from '../services/context.js';
import { createExchange, type Exchange } from '../exchange.js';

export class CliError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}

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

/** The one line a failed command prints: whatever failed, one line. */
export function describeFailure(error: unknown): { message: string; exitCode: number } {
  const { message, exitCode } = describe(error);
  return { message: message.replace(/\s*\n\s*/g, ' ').trim() || 'failed', exitCode };
}

function describe(error: unknown): { message: string; exitCode: number } {
  if (error instanceof ZodError) return describe(invalidInput(error));
  if (error instanceof CliError) return { message: error.message, exitCode: error.exitCode };
  if (error instanceof ConsentToolError) return { message: error.message, exitCode: 1 };
  if (error instanceof AppError) {
    const fields = error.errors?.map((e) => `${e.path}: ${e.message}`).join('; ');
    return { message: fields ? `${error.message} (${fields})` : error.message, exitCode: 1 };
  }
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ECONNREFUSED') return { message: `cannot reach the database or service: ${error.message}`, exitCode: 1 };
    return { message: error.message, exitCode: 1 };
  }
  return { message: String(error), exitCode: 1 };
}

export function printTable(rows: Record<string, unknown>[], columns: string[]): void {
  const cell = (value: unknown) => (value instanceof Date ? value.toISOString() : value === null || value === undefined ? '-' : String(value));
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (values: string[]) => values.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd();
  process.stdout.write(`${line(columns)}\n`);
  for (const row of rows) process.stdout.write(`${line(columns.map((c) => cell(row[c])))}\n`);
}
