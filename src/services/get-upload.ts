import { notFound } from '../errors.js';
import type { Page, PageRequest } from '../store/pages.js';
import { selectUpload, selectUploads, type Upload, type UploadSummary } from '../store/uploads.js';
import type { ServiceContext } from './context.js';
import { findOwnDataset, requirePartner } from './datasets.js';

/** A dataset's uploads, newest first; another partner's dataset is 404. */
export async function listUploads({ ctx, datasetId, page }: { ctx: ServiceContext; datasetId: string; page: PageRequest }): Promise<Page<UploadSummary>> {
  const partnerId = requirePartner(ctx);
  await findOwnDataset(ctx.db, partnerId, datasetId);
  return selectUploads(ctx.db, partnerId, datasetId, page);
}

export async function getUpload({ ctx, datasetId, uploadId }: { ctx: ServiceContext; datasetId: string; uploadId: string }): Promise<Upload> {
  const partnerId = requirePartner(ctx);
  await findOwnDataset(ctx.db, partnerId, datasetId);
  const upload = await selectUpload(ctx.db, partnerId, datasetId, uploadId);
  if (!upload) throw notFound('The upload');
  return upload;
}
