import { notFound } from '../errors.js';
import { selectRecordVersion, type RecordVersion } from '../store/records.js';
import type { ServiceContext } from './context.js';
import { findOwnDataset, requirePartner } from './datasets.js';

/** A record of the caller's dataset as it is now, or as it was at `asOf`. */
export async function getRecord({
  ctx,
  datasetId,
  sourceId,
  asOf,
}: {
  ctx: ServiceContext;
  datasetId: string;
  sourceId: string;
  asOf?: string;
}): Promise<RecordVersion & { record: NonNullable<RecordVersion['record']> }> {
  const partnerId = requirePartner(ctx);
  await findOwnDataset(ctx.db, partnerId, datasetId);
  const version = await selectRecordVersion(ctx.db, { partnerId, datasetId, sourceId, asOf });
  if (!version?.record) throw notFound(asOf ? `The record as of ${asOf}` : 'The record');
  return { ...version, record: version.record };
}
