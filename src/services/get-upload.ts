import { notFound } from '../errors.js';
import { selectUpload, type Upload } from '../store/uploads.js';
import type { ServiceContext } from './context.js';
import { findOwnDataset, requirePartner } from './datasets.js';

export async function getUpload({ ctx, datasetId, uploadId }: { ctx: ServiceContext; datasetId: string; uploadId: string }): Promise<Upload> {
  const partnerId = requirePartner(ctx);
  await findOwnDataset(ctx.db, partnerId, datasetId);
  const upload = await selectUpload(ctx.db, partnerId, datasetId, uploadId);
  if (!upload) throw notFound('The upload');
  return upload;
}
