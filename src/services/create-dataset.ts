import { z } from 'zod';
import { AppError } from '../errors.js';
import { recordEvent } from '../audit/record-event.js';
import { findMapping } from './mappings.js';
import { insertDataset, type Dataset } from '../store/datasets.js';
import type { ServiceContext } from './context.js';
import { requirePartner } from './datasets.js';

export const createDatasetInput = z.object({
  name: z.string().trim().min(1).max(200),
  description: z.string().max(2000).optional(),
  defaultMapping: z.string().max(100).optional().describe('A mapping used when an upload names none: a shipped one ("salesforce-contacts") or one of yours (POST /v1/mappings).'),
  standardVersion: z.string().regex(/^1\.\d+\.\d+$/).default('1.0.0'),
});

export async function createDataset({ ctx, input }: { ctx: ServiceContext; input: z.input<typeof createDatasetInput> }): Promise<Dataset> {
  const partnerId = requirePartner(ctx);
  const { name, description, defaultMapping, standardVersion } = createDatasetInput.parse(input);
  if (defaultMapping !== undefined && !(await findMapping(ctx.db, partnerId, defaultMapping))) {
    throw new AppError('validation_failed', 'The default mapping is neither a shipped mapping nor one of yours.', {
      errors: [{ path: '/defaultMapping', message: `no mapping "${defaultMapping}" (see GET /v1/mappings)` }],
    });
  }
  return ctx.db.transaction(async (tx) => {
    const dataset = await insertDataset(tx, { partnerId, name, description: description ?? null, defaultMapping: defaultMapping ?? null, standardVersion });
    if (!dataset) throw new AppError('conflict', `You already have a dataset named "${name}".`);
    await recordEvent(tx, ctx, { action: 'dataset.create', targetType: 'dataset', targetId: dataset.id });
    return dataset;
  });
}
