import { recordEvent } from '../audit/record-event.js';
import { notFound } from '../errors.js';
import { recordPseudonym, secretsFor } from '../core/secrets.js';
import { deleteLinksToRecord } from '../store/linkage-jobs.js';
import { oneUploadAtATime } from '../store/loading.js';
import { eraseRecordVersions, lockDatasetForUpload } from '../store/records.js';
import { deleteTombstones, insertTombstone } from '../store/tombstones.js';
import { scrubSourceIdFromReports } from '../store/uploads.js';
import type { Queryable } from '../store/database.js';
import type { ServiceContext } from './context.js';
import { findOwnDataset, requirePartner } from './datasets.js';

/**
 * The right to erasure: the personal data of every version goes. The audit event keeps that an
 * erasure happened, by whom and when, and the record's keyed pseudonym (the same as in every other
 * event about it), never the source id nor a plain hash of it, which anyone could recompute from a
 * guessed id. Upload reports that name the
 * source id (rows rejected or cut down, duplicates flagged) lose the values and the id too, and so
 * do stored linkage results, the owner's and its grantees'. A tombstone (a keyed pseudonym of the
 * id) keeps the record erased: later uploads naming it are refused for that row until the partner
 * lifts it (`liftErasures`).
 */
export async function eraseRecord({
  ctx,
  datasetId,
  sourceId,
}: {
  ctx: ServiceContext;
  datasetId: string;
  sourceId: string;
}): Promise<{ versions: number; uploadReports: number; linkageResults: number }> {
  const partnerId = requirePartner(ctx);
  await findOwnDataset(ctx.db, partnerId, datasetId);
  // After any upload running into the dataset: one that read the tombstones before this erasure
  // would otherwise bring the record back when it publishes.
  const erase = (tx: Queryable) => eraseInTransaction(ctx, tx, { partnerId, datasetId, sourceId });
  return oneUploadAtATime(ctx.db, datasetId, () => ctx.db.transaction(erase));
}

async function eraseInTransaction(
  ctx: ServiceContext,
  tx: Queryable,
  { partnerId, datasetId, sourceId }: { partnerId: string; datasetId: string; sourceId: string },
): Promise<{ versions: number; uploadReports: number; linkageResults: number }> {
  await lockDatasetForUpload(tx, datasetId);
  const scope = { partnerId, datasetId, sourceId };
  const versions = await eraseRecordVersions(tx, scope);
  const uploadReports = await scrubSourceIdFromReports(tx, scope);
  const linkageResults = await deleteLinksToRecord(tx, scope);
  if (versions === 0 && uploadReports === 0 && linkageResults === 0) throw notFound('The record');
  await insertTombstone(tx, { partnerId, datasetId, sourceKey: erasureKey(ctx, partnerId, datasetId, sourceId) });
  await recordEvent(tx, ctx, {
    action: 'record.erase',
    targetType: 'dataset',
    targetId: datasetId,
    details: { record: recordPseudonym(secretsFor(ctx.config), partnerId, datasetId, sourceId), versions, uploadReports, linkageResults },
  });
  return { versions, uploadReports, linkageResults };
}

/** The tombstone key of a source id: keyed, so the table cannot be reversed by hashing guessed ids. */
export function erasureKey(ctx: Pick<ServiceContext, 'config'>, partnerId: string, datasetId: string, sourceId: string): string {
  return secretsFor(ctx.config).pseudonym('erasure', partnerId, datasetId, sourceId);
}

/**
 * Lets erased source ids be uploaded again (the customer came back, or the erasure was a mistake):
 * an explicit, audited call. Answers how many of them were tombstoned.
 */
export async function liftErasures({ ctx, datasetId, sourceIds }: { ctx: ServiceContext; datasetId: string; sourceIds: string[] }): Promise<{ lifted: number }> {
  const partnerId = requirePartner(ctx);
  return ctx.db.transaction(async (tx) => {
    await findOwnDataset(tx, partnerId, datasetId);
    const lifted = await deleteTombstones(tx, { partnerId, datasetId, sourceKeys: sourceIds.map((id) => erasureKey(ctx, partnerId, datasetId, id)) });
    await recordEvent(tx, ctx, { action: 'record.erasure_lift', targetType: 'dataset', targetId: datasetId, details: { requested: sourceIds.length, lifted } });
    return { lifted };
  });
}
