import { z } from 'zod';
import { recordEvent } from '../audit/record-event.js';
import { insertRevocation } from '../store/consent.js';
import type { ServiceContext } from './context.js';
import { requirePartner } from './datasets.js';

export const revokeConsentInput = z
  .object({
    jti: z.string().min(1).max(200).describe('The jti of a token you signed.'),
    reason: z.string().max(500).optional(),
  })
  .strict();

/**
 * The grantor revokes a token it signed, by jti: every later request with it is refused. The
 * exchange keeps no tokens, so it cannot tell whether the jti was ever used; revoking an unknown
 * jti is not an error (it also blocks a token minted later with that jti).
 */
export async function revokeConsent({ ctx, input }: { ctx: ServiceContext; input: z.input<typeof revokeConsentInput> }): Promise<{ jti: string; revokedAt: Date }> {
  const grantorId = requirePartner(ctx);
  const { jti, reason } = revokeConsentInput.parse(input);
  return ctx.db.transaction(async (tx) => {
    const { revokedAt, created } = await insertRevocation(tx, { grantorId, jti, reason: reason ?? null });
    if (created) await recordEvent(tx, ctx, { action: 'consent.revoke', targetType: 'consent', targetId: jti, details: { jti, reasonGiven: Boolean(reason) } });
    return { jti, revokedAt };
  });
}
