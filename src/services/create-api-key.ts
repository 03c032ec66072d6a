import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { AppError, notFound } from '../errors.js';
import { recordEvent } from '../audit/record-event.js';
import { insertApiKey, roleSchema, type ApiKey } from '../store/api-keys.js';
import { selectPartner } from '../store/partners.js';
import { actingPartnerId, isExchangeAdmin, type ServiceContext } from './context.js';

export const createApiKeyInput = z.object({
  name: z.string().trim().min(1).max(200).describe('What the key is for, e.g. "nightly upload job".'),
  role: roleSchema.default('partner'),
  partner: z.string().optional().describe('Partner id or slug; required for partner keys created by an administrator.'),
});

/** Keys look like `cx_<43 characters>`: 256 random bits, base64url. */
export function generateApiKey(): string {
  return `cx_${randomBytes(32).toString('base64url')}`;
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export async function createApiKey({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: z.input<typeof createApiKeyInput>;
}): Promise<{ apiKey: ApiKey; key: string }> {
  const { name, role, partner: partnerRef } = createApiKeyInput.parse(input);
  const own = actingPartnerId(ctx.actor);
  let partnerId: string | null = null;
  if (own) {
    // A partner makes keys for itself only, and only partner keys.
    if (role !== 'partner') throw new AppError('forbidden', 'A partner key can only create partner keys.');
    if (partnerRef !== undefined) {
      const target = await selectPartner(ctx.db, partnerRef);
      if (target?.id !== own) throw notFound('The partner');
    }
    partnerId = own;
  } else if (isExchangeAdmin(ctx.actor)) {
    if (role === 'partner') {
      if (!partnerRef) throw new AppError('validation_failed', 'A partner key needs a partner.', { errors: [{ path: '/partner', message: 'required for role "partner"' }] });
      const target = await selectPartner(ctx.db, partnerRef);
      if (!target) throw notFound('The partner');
      partnerId = target.id;
    } else if (partnerRef !== undefined) {
      throw new AppError('validation_failed', `A ${role} key belongs to the exchange, not to a partner.`, { errors: [{ path: '/partner', message: `not allowed for role "${role}"` }] });
    }
  } else {
    throw new AppError('forbidden', 'This key cannot create keys.');
  }
  const key = generateApiKey();
  return ctx.db.transaction(async (tx) => {
    const apiKey = await insertApiKey(tx, { partnerId, role, name, prefix: key.slice(0, 10), keyHash: hashApiKey(key) });
    await recordEvent(tx, ctx, { action: 'api_key.create', targetType: 'api_key', targetId: apiKey.id, partnerId, details: { role } });
    return { apiKey, key };
  });
}
