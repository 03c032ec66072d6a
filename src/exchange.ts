/**
 * The composition root: one place that builds an exchange from its configuration (the database,
 * its migrations, the exchange's keys, recovery from an interrupted stop, the audit log) and runs
 * its background work. `cx serve` and the operator commands start here; the tests build theirs on a
 * migrated template database with `openAuditLog`.
 */
import type { AuditLog } from './audit/log.js';
import { ensureExchangeSigningKey, exchangeLogSigner } from './audit/exchange-key.js';
import { startIntegrator, type Integrator } from './audit/log.js';
import { parseWitnessList } from './audit/witness.js';
import type { Config } from './config.js';
import { secretsFor } from './core/secrets.js';
import type { Logger } from './logger.js';
import type { Database } from './store/database.js';
import { failInterruptedJobs } from './store/linkage-jobs.js';
import { discardInterruptedLoads } from './store/loading.js';
import { migrate } from './store/migrate.js';
import { rekeyStaleRecords } from './store/records.js';
import { openDatabase } from './store/open.js';

export interface Exchange {
  db: Database;
  config: Config;
  logger: Logger;
  auditLog: AuditLog;
  close(): Promise<void>;
}

/** The audit log of an exchange whose signing key exists. */
export async function openAuditLog(db: Database, config: Config): Promise<AuditLog> {
  return { origin: config.AUDIT_LOG_ORIGIN, signer: await exchangeLogSigner(db, secretsFor(config), config.AUDIT_LOG_ORIGIN) };
}

/**
 * Opens the configured database and readies it: migrations and the exchange's signing key. The
 * service (`recover`) also finishes what the last stop left undone: linkage jobs are marked failed,
 * half-done first loads removed. Operator commands do not, since a service may be running.
 */
export async function createExchange(config: Config, logger: Logger, options: { recover: boolean }): Promise<Exchange> {
  const db = await openDatabase(config, logger);
  try {
    const applied = await migrate(db);
    if (applied.length) logger.info({ applied }, 'migrations applied');
    const rekeyed = await rekeyStaleRecords(db);
    if (rekeyed) logger.info({ rekeyed }, 'match keys of stored records recomputed by the current extractor');
    await ensureExchangeSigningKey(db, secretsFor(config));
    if (options.recover) {
      const interrupted = await failInterruptedJobs(db);
      if (interrupted) logger.warn({ interrupted }, 'linkage jobs interrupted by the last stop were marked failed');
      const discarded = await discardInterruptedLoads(db);
      if (discarded) logger.warn({ discarded }, 'first loads interrupted by the last stop were removed; send those uploads again');
    }
    return { db, config, logger, auditLog: await openAuditLog(db, config), close: () => db.close() };
  } catch (error) {
    await db.close();
    throw error;
  }
}

/** The exchange's background work; `drain()` finishes it (integrating every queued event) on shutdown. */
export function startBackground(exchange: Exchange): { drain(): Promise<void> } {
  const integrator: Integrator = startIntegrator(exchange.db, exchange.auditLog, {
    intervalMs: exchange.config.AUDIT_INTEGRATE_INTERVAL_MS,
    witnesses: parseWitnessList(exchange.config.AUDIT_WITNESSES),
    onError: (error) => exchange.logger.error({ err: error }, 'audit log integration failed; trying again'),
  });
  return { drain: () => integrator.drain() };
}
