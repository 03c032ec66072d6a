/**
 * Who acts: the words every layer shares, below the store. A partner key acts for one partner;
 * auditor and admin keys act for the exchange; the operator is the CLI on the database; the system
 * is the exchange's own background work.
 */
import { z } from 'zod';

export const roleSchema = z.enum(['partner', 'auditor', 'admin']);
export type Role = z.infer<typeof roleSchema>;

export type Actor =
  | { type: 'api_key'; keyId: string; role: Role; partnerId: string | null }
  | { type: 'operator' }
  | { type: 'system' };

/** The partner an actor acts for, when it is a partner key. */
export function actingPartnerId(actor: Actor): string | null {
  return actor.type === 'api_key' && actor.role === 'partner' ? actor.partnerId : null;
}

/** Operators (the CLI on the database) and admin keys may manage the exchange. */
export function isExchangeAdmin(actor: Actor): boolean {
  return actor.type === 'operator' || actor.type === 'system' || (actor.type === 'api_key' && actor.role === 'admin');
}
