import { z } from 'zod';
import { AppError } from '../errors.js';
import { recordEvent } from '../audit/record-event.js';
import { insertPartner, partnerSlugSchema, type Partner } from '../store/partners.js';
import { isExchangeAdmin, type ServiceContext } from './context.js';

export const createPartnerInput = z.object({
  slug: partnerSlugSchema.describe('A short stable handle, e.g. "acme-bank".'),
  name: z.string().trim().min(1).max(200).describe('The enterprise\'s display name.'),
});

export async function createPartner({ ctx, input: raw }: { ctx: ServiceContext; input: z.input<typeof createPartnerInput> }): Promise<Partner> {
  if (!isExchangeAdmin(ctx.actor)) throw new AppError('forbidden', 'Only the exchange\'s administrators can register partners.');
  const input = createPartnerInput.parse(raw);
  return ctx.db.transaction(async (tx) => {
    const partner = await insertPartner(tx, input);
    if (!partner) throw new AppError('conflict', `A partner with the slug "${input.slug}" is already registered; choose another slug.`);
    await recordEvent(tx, ctx, { action: 'partner.create', targetType: 'partner', targetId: partner.id, partnerId: partner.id, details: { slug: partner.slug } });
    return partner;
  });
}
