import { notFound } from '../errors.js';
import { selectPartner, type Partner } from '../store/partners.js';
import { actingPartnerId, type ServiceContext } from './context.js';

/** A partner by id or slug; partner keys only ever see their own. */
export async function getPartner({ ctx, idOrSlug }: { ctx: ServiceContext; idOrSlug: string }): Promise<Partner> {
  const partner = await selectPartner(ctx.db, idOrSlug);
  const own = actingPartnerId(ctx.actor);
  if (!partner || (ctx.actor.type === 'api_key' && ctx.actor.role === 'partner' && partner.id !== own)) throw notFound('The partner');
  return partner;
}
