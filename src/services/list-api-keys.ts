import { AppError, notFound } from '../errors.js';
import { selectApiKeys, type ApiKey } from '../store/api-keys.js';
import type { Page, PageRequest } from '../store/pages.js';
import { selectPartner } from '../store/partners.js';
import { actingPartnerId, isExchangeAdmin, type ServiceContext } from './context.js';

/** A partner sees its own keys; administrators see all, or one partner's. */
export async function listApiKeys({ ctx, partner, page }: { ctx: ServiceContext; partner?: string; page: PageRequest }): Promise<Page<ApiKey>> {
  const own = actingPartnerId(ctx.actor);
  if (own) return selectApiKeys(ctx.db, page, own);
  if (!isExchangeAdmin(ctx.actor)) throw new AppError('forbidden', 'This key cannot list keys.');
  if (partner === undefined) return selectApiKeys(ctx.db, page);
  const target = await selectPartner(ctx.db, partner);
  if (!target) throw notFound('The partner');
  return selectApiKeys(ctx.db, page, target.id);
}
