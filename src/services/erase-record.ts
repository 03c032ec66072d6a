import { createHash } from 'node:crypto';
import { recordEvent } from '../audit/record-event.js';
import { notFound } from '../errors.js';
import { eraseRecordVersions } from '../store/records.js';
import { scrubSourceIdFromReports } from '../store/uploads.js';
import type { ServiceContext } from './context.js';
import { findOwnDataset, requirePartner } from './datasets.js';

/**
 * The right to erasure: the personal data of every version goes. The audit event keeps that an
 * erasure happened, by whom and when, and a SHA-256 of the source id (so an auditor can confirm a
 * given request was carried out without the log holding the id). Upload reports that name the
 * source id (rows rejected or cut down, duplicates flagged) lose the values and the id too.
 */
export async function eraseRecord({
  ctx,
  datasetId,
  sourceId,
}: {
  ctx: ServiceContext;
  datasetId: string;
  sourceId: string;
}): Promise<{ versions: number; uploadReports: number }> {
  const partnerId = requirePartner(ctx);
  return ctx.db.transaction(async (tx) => {
    await findOwnDataset(tx, partnerId, datasetId);
    const scope = { partnerId, datasetId, sourceId };
    const versions = await eraseRecordVersions(tx, scope);
    const uploadReports = await scrubSourceIdFromReports(tx, scope);
    if (versions === 0 && uploadReports === 0) throw notFound('The record');
    await recordEvent(tx, ctx, {
      action: 'record.erase',
      targetType: 'dataset',
      targetId: datasetId,
      details: { sourceIdSha256: createHash('sha256').update(sourceId).digest('hex'), versions, uploadReports },
    });
    return { versions, uploadReports };
  });
}
