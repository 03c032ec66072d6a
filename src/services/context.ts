/** What every service verb receives: who acts, on which database, for which request. */
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { Database } from '../store/database.js';
import type { Role } from '../store/api-keys.js';

export type Actor =
  | { type: 'api_key'; keyId: string; role: Role; partnerId: string | null }
  | { type: 'operator' }
  | { type: 'system' };

export interface ServiceContext {
  db: Database;
  config: Config;
  logger: Logger;
  actor: Actor;
  requestId: string | null;
  /** Idempotency keys of uploads this exchange is running now (partner/dataset/key). */
  uploadsInFlight?: Set<string>;
}

/** The partner an actor acts for, when it is a partner key. */
export function actingPartnerId(actor: Actor): string | null {
  return actor.type === 'api_key' && actor.role === 'partner' ? actor.partnerId : null;
}

/** Operators (the CLI on the database) and admin keys may manage the exchange. */
export function isExchangeAdmin(actor: Actor): boolean {
  return actor.type === 'operator' || actor.type === 'system' || (actor.type === 'api_key' && actor.role === 'admin');
}
