import { selectPartnerKeys } from '../store/consent.js';
import type { ServiceContext } from './context.js';
import { getPartner } from './get-partner.js';

/** A partner's current public signing keys: public by nature, so any key may read them to check tokens. */
export async function getPartnerJwks({ ctx, idOrSlug }: { ctx: ServiceContext; idOrSlug: string }): Promise<{ keys: Record<string, unknown>[] }> {
  const partner = await getPartner({ ctx, idOrSlug });
  return { keys: (await selectPartnerKeys(ctx.db, partner.id)).map((key) => key.jwk) };
}
