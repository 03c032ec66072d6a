import { z } from 'zod';
import { recordEvent } from '../audit/record-event.js';
import { authorizeConsent } from '../consent/authorize.js';
import { recordPseudonym, secretsFor } from '../core/secrets.js';
import { notFound } from '../errors.js';
import type { purposes } from '../standard/code-lists.js';
import { selectDisclosedRecord, type DisclosedRecord } from '../store/shared-records.js';
import type { ServiceContext } from './context.js';
import { requirePartner } from './datasets.js';

/**
 * A grantee reads one record of the grantor under a consent token that grants `disclose`: the
 * current version, cut down to the granted fields. A record outside the grant, one whose own
 * consents refuse the purpose, and one that does not exist all answer the same 404.
 */
export async function readSharedRecord({
  ctx,
  token,
  purpose,
  datasetId,
  sourceId,
}: {
  ctx: ServiceContext;
  token: string | undefined;
  purpose: (typeof purposes)[number];
  datasetId: string;
  sourceId: string;
}): Promise<DisclosedRecord> {
  const callerId = requirePartner(ctx);
  const grant = await authorizeConsent(ctx, { token, callerId, purpose, action: 'disclose' });
  if (!z.uuid().safeParse(datasetId).success) throw notFound('The record');
  return ctx.db.transaction(async (tx) => {
    const disclosed = await selectDisclosedRecord(tx, grant, { datasetId, sourceId });
    if (!disclosed) throw notFound('The record');
    await recordEvent(tx, ctx, {
      action: 'record.disclose',
      targetType: 'record',
      targetId: recordPseudonym(secretsFor(ctx.config), grant.grantorId, datasetId, sourceId),
      partnerId: grant.grantorId,
      details: { jti: grant.jti, grantee: callerId, purpose, version: disclosed.version, fields: grant.fields },
    });
    return disclosed;
  });
}
