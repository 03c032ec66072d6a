import type { z } from 'zod';
import { recordEvent } from '../audit/record-event.js';
import { algorithmOf, jwksSchema, parsePartnerJwks } from '../consent/jwks.js';
import { replacePartnerKeys, selectPartnerKeys } from '../store/consent.js';
import type { ServiceContext } from './context.js';
import { requirePartner } from './datasets.js';

/**
 * Registers the caller's public signing keys, replacing the set it had: keys left out are retired
 * and the tokens they signed stop verifying at once. Several kids at once let keys rotate.
 */
export async function replacePartnerJwks({ ctx, input }: { ctx: ServiceContext; input: z.infer<typeof jwksSchema> }): Promise<{ keys: Record<string, unknown>[] }> {
  const partnerId = requirePartner(ctx);
  const keys = await parsePartnerJwks(input);
  return ctx.db.transaction(async (tx) => {
    const rows = keys.map((jwk) => ({ kid: jwk.kid, alg: algorithmOf(jwk), jwk: { ...jwk, alg: algorithmOf(jwk), use: 'sig' } }));
    const { added, retired } = await replacePartnerKeys(tx, partnerId, rows);
    await recordEvent(tx, ctx, { action: 'partner_keys.replace', targetType: 'partner', targetId: partnerId, details: { kids: rows.map((r) => r.kid), added, retired } });
    return { keys: (await selectPartnerKeys(tx, partnerId)).map((key) => key.jwk) };
  });
}
