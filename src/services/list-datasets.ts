import { selectDatasets, type Dataset } from '../store/datasets.js';
import type { Page, PageRequest } from '../store/pages.js';
import type { ServiceContext } from './context.js';
import { findOwnDataset, requirePartner } from './datasets.js';

export async function listDatasets({ ctx, page }: { ctx: ServiceContext; page: PageRequest }): Promise<Page<Dataset>> {
  return selectDatasets(ctx.db, requirePartner(ctx), page);
}

export async function getDataset({ ctx, datasetId }: { ctx: ServiceContext; datasetId: string }): Promise<Dataset> {
  return findOwnDataset(ctx.db, requirePartner(ctx), datasetId);
}
