/**
 * Failed authentications reach the audit log counted, not one by one: one `auth.fail` event per
 * presented key (its public prefix, or none) and client address (a keyed pseudonym) per minute,
 * written when the minute is over, so that a flood of bad requests cannot flood the log.
 */
import { recordEvent } from '../audit/record-event.js';
import { secretsFor } from '../core/secrets.js';
import type { ServiceContext } from './context.js';

type Tally = { reason: string; keyId: string | null; address: string; minute: string; count: number };

export function authFailureTally(ctx: Pick<ServiceContext, 'db' | 'config' | 'logger'>) {
  const tallies = new Map<string, Tally>();
  let timer: NodeJS.Timeout | undefined;
  const flush = async (all: boolean) => {
    const now = new Date().toISOString().slice(0, 16);
    const done = [...tallies.entries()].filter(([, t]) => all || t.minute < now);
    for (const [key] of done) tallies.delete(key);
    for (const [, tally] of done) {
      try {
        await recordEvent(ctx.db, { actor: { type: 'system' }, requestId: null }, { action: 'auth.fail', targetType: 'api_key', targetId: tally.keyId, outcome: 'denied', details: { ...tally } });
      } catch (error) {
        ctx.logger.error({ err: error }, 'could not log failed authentications');
      }
    }
    if (tallies.size === 0 && timer) {
      clearInterval(timer);
      timer = undefined;
    }
  };
  return {
    /** Counts one failure; `presented` is the bearer token as sent (only its public prefix is kept). */
    count(reason: string, presented: string | undefined, clientAddress: string): void {
      const keyId = presented && /^cx_[A-Za-z0-9_-]{43}$/.test(presented) ? presented.slice(0, 10) : null;
      const address = Buffer.from(secretsFor(ctx.config).pseudonym('client-address', clientAddress), 'base64url').toString('hex').slice(0, 16);
      const minute = new Date().toISOString().slice(0, 16);
      const id = `${minute}|${keyId}|${address}|${reason}`;
      const tally = tallies.get(id) ?? { reason, keyId, address, minute: `${minute}Z`, count: 0 };
      tally.count += 1;
      tallies.set(id, tally);
      if (!timer) {
        timer = setInterval(() => void flush(false), 5_000);
        timer.unref();
      }
    },
    /** Writes every tally now (shutdown, tests). */
    flush: () => flush(true),
  };
}
export type AuthFailureTally = ReturnType<typeof authFailureTally>;
