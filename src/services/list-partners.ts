import { AppError } from '../errors.js';
import { selectPartners, type Partner } from '../store/partners.js';
import type { Page, PageRequest } from '../store/pages.js';
import { isExchangeAdmin, type ServiceContext } from './context.js';

export async function listPartners({ ctx, page }: { ctx: ServiceContext; page: PageRequest }): Promise<Page<Partner>> {
  if (!isExchangeAdmin(ctx.actor) && !(ctx.actor.type === 'api_key' && ctx.actor.role === 'auditor')) {
    throw new AppError('forbidden', 'Only administrators and auditors can list partners.');
  }
  return selectPartners(ctx.db, page);
}
