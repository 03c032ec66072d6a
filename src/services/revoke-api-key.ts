import { z } from 'zod';
import { AppError, notFound } from '../errors.js';
import { recordEvent } from '../audit/record-event.js';
import { revokeApiKeyRow, selectApiKey, type ApiKey } from '../store/api-keys.js';
import { actingPartnerId, isExchangeAdmin, type ServiceContext } from './context.js';

/** Revokes a key at once; revoking twice keeps the first revocation time. */
export async function revokeApiKey({ ctx, keyId }: { ctx: ServiceContext; keyId: string }): Promise<ApiKey> {
  if (!z.uuid().safeParse(keyId).success) throw notFound('The key');
  const own = actingPartnerId(ctx.actor);
  if (!own && !isExchangeAdmin(ctx.actor)) throw new AppError('forbidden', 'This key cannot revoke keys.');
  return ctx.db.transaction(async (tx) => {
    const existing = await selectApiKey(tx, keyId, own ?? undefined);
    if (!existing) throw notFound('The key');
    const revoked = (await revokeApiKeyRow(tx, keyId))!;
    await recordEvent(tx, ctx, { action: 'api_key.revoke', targetType: 'api_key', targetId: keyId, partnerId: existing.partnerId });
    return revoked;
  });
}
