/** An in-process app on a fresh database, with helpers to make partners and keys. */
import { Writable } from 'node:stream';
import { loadConfig, type Config } from '../../src/config.js';
import { createApp, type App } from '../../src/api/app.js';
import { ensureExchangeSigningKey } from '../../src/audit/exchange-key.js';
import { mintConsentToken, type MintOptions } from '../../src/consent/mint.js';
import { integrateAll, type AuditLog } from '../../src/audit/log.js';
import { openAuditLog } from '../../src/exchange.js';
import { secretsFor } from '../../src/core/secrets.js';
import { createLogger, type Logger } from '../../src/logger.js';
import { createApiKey } from '../../src/services/create-api-key.js';
import { createPartner } from '../../src/services/create-partner.js';
import type { ServiceContext } from '../../src/services/context.js';
import type { Database } from '../../src/store/database.js';
import type { Partner } from '../../src/store/partners.js';
import { createTestDatabase } from './database.js';

export interface TestExchange {
  app: App;
  db: Database;
  config: Config;
  logger: Logger;
  /** Every log line the app wrote, parsed. */
  logs: Record<string, unknown>[];
  operator: ServiceContext;
  auditLog: AuditLog;
  /** Integrates every queued audit event (the server's background integrator does it on its own). */
  integrate(): Promise<bigint>;
  adminKey: string;
  addPartner(slug: string): Promise<{ partner: Partner; key: string }>;
  request(path: string, init?: RequestInit & { key?: string; json?: unknown }): Promise<Response>;
  close(): Promise<void>;
}

export async function createTestExchange(env: Record<string, string> = {}): Promise<TestExchange> {
  const db = await createTestDatabase();
  const config = loadConfig({ LOG_LEVEL: 'info', DATA_DIR: '.tmp/test-data', ...env });
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const logger = createLogger(config.LOG_LEVEL, sink);
  const operator: ServiceContext = { db, config, logger, actor: { type: 'operator' }, requestId: null };
  await ensureExchangeSigningKey(db, secretsFor(config));
  const auditLog = await openAuditLog(db, config);
  const app = createApp({ db, config, logger, auditLog });
  const { key: adminKey } = await createApiKey({ ctx: operator, input: { name: 'test admin', role: 'admin' } });
  return {
    app,
    db,
    config,
    logger,
    logs,
    operator,
    auditLog,
    integrate: () => integrateAll(db, auditLog),
    adminKey,
    async addPartner(slug) {
      const partner = await createPartner({ ctx: operator, input: { slug, name: `${slug} Ltd` } });
      const { key } = await createApiKey({ ctx: operator, input: { name: 'test', partner: slug } });
      return { partner, key };
    },
    request(path, init = {}) {
      const { key, json, headers, ...rest } = init;
      const merged = new Headers(headers);
      if (key) merged.set('authorization', `Bearer ${key}`);
      if (json !== undefined) merged.set('content-type', 'application/json');
      return Promise.resolve(app.request(path, { ...rest, headers: merged, ...(json !== undefined ? { body: JSON.stringify(json) } : {}) }));
    },
    close: () => db.close(),
  };
}

/**
 * A consent token `grantor` signs with `privateJwk` for `grantee`, meant for this exchange: fraud
 * prevention under legitimate interests for ten minutes, unless `options` say otherwise.
 */
export async function grantToken(
  ex: Pick<TestExchange, 'config'>,
  parties: { privateJwk: unknown; grantor: { partner: { id: string } }; grantee: { partner: { id: string } } },
  options: Partial<MintOptions> & Pick<MintOptions, 'actions' | 'fields'>,
): Promise<string> {
  const { privateJwk, grantor, grantee } = parties;
  const base = { privateJwk, grantor: grantor.partner.id, grantee: grantee.partner.id, audience: ex.config.EXCHANGE_ID };
  return (await mintConsentToken({ ...base, purpose: 'fraud_prevention', lawfulBasis: 'legitimate_interests', ttlSeconds: 600, ...options })).token;
}
