/** What every service verb receives: who acts, on which database, for which request. */
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { Database } from '../store/database.js';
import type { Actor } from '../core/actor.js';

export interface ServiceContext {
  db: Database;
  config: Config;
  logger: Logger;
  actor: Actor;
  requestId: string | null;
  /** Idempotency keys of uploads this exchange is running now (partner/dataset/key). */
  uploadsInFlight?: Set<string>;
}

export { actingPartnerId, isExchangeAdmin, type Actor } from '../core/actor.js';
