/** Helpers the dataset verbs share: who the partner is, and finding its dataset. */
import { AppError, notFound } from '../errors.js';
import { selectDataset, type Dataset } from '../store/datasets.js';
import type { Queryable } from '../store/database.js';
import { actingPartnerId, type ServiceContext } from './context.js';

/** Datasets belong to partners: only a partner key works on them. */
export function requirePartner(ctx: ServiceContext): string {
  const partnerId = actingPartnerId(ctx.actor);
  if (!partnerId) throw new AppError('forbidden', 'Datasets belong to partners: use a partner key.');
  return partnerId;
}

/** The caller's own dataset; any other id is "not found", whether it exists or not. */
export async function findOwnDataset(db: Queryable, partnerId: string, datasetId: string): Promise<Dataset> {
  const dataset = await selectDataset(db, partnerId, datasetId);
  if (!dataset) throw notFound('The dataset');
  return dataset;
}
