/**
 * Per-dataset match models: a partner trains one on its own dataset in the background (nothing
 * of another partner's is read), a dataset names the model its matches and linkage jobs use, and
 * what is scored says which model scored it ("default" or the model's id).
 */
import { z } from 'zod';
import { recordEvent } from '../audit/record-event.js';
import { AppError, notFound } from '../errors.js';
import { defaultModel, parseModel, type MatchModel } from '../match/model.js';
import { degenerateLevels } from '../match/train.js';
import { forLongWork, type Queryable } from '../store/database.js';
import { finishModel, insertModel, selectDatasetModels, selectModel, selectModels, setDatasetModel, type StoredModel } from '../store/models.js';
import type { ServiceContext } from './context.js';
import { runInBackground } from './background.js';
import { findOwnDataset, requirePartner } from './datasets.js';
import { trainOnDatasets } from './link-datasets.js';

export const createModelInput = z.object({ datasetId: z.uuid().describe('Your dataset to train on (deduplication pairs within it).') }).strict();
export const datasetModelInput = z.object({ modelId: z.uuid().nullable().describe('A ready model of yours; null for the shipped default.') }).strict();

/** The name results and audit events give a model: "default", or a trained model's id. */
export type ModelName = 'default' | (string & {});

/** Starts training on one of the caller's datasets; the model is `training` until it is ready or has failed. */
export async function createModel({ ctx, input }: { ctx: ServiceContext; input: z.input<typeof createModelInput> }): Promise<StoredModel> {
  const partnerId = requirePartner(ctx);
  const { datasetId } = createModelInput.parse(input);
  const dataset = await findOwnDataset(ctx.db, partnerId, datasetId);
  if (dataset.records < 2) throw new AppError('validation_failed', 'The dataset needs at least two records to train on.', { errors: [{ path: '/datasetId', message: 'fewer than two records' }] });
  const stored = await insertModel(ctx.db, partnerId, datasetId);
  const running = trainInBackground(ctx, partnerId, stored.id, datasetId);
  runInBackground(running);
  return stored;
}

async function trainInBackground(ctx: ServiceContext, partnerId: string, id: string, datasetId: string): Promise<void> {
  const fail = async (reason: string, message: string) =>
    ctx.db.transaction(async (tx) => {
      await finishModel(tx, partnerId, id, { error: message });
      await recordEvent(tx, ctx, { action: 'model.fail', targetType: 'model', targetId: id, outcome: 'failure', details: { datasetId, reason } });
    });
  try {
    const scope = { partnerId, datasetId };
    // Training starts from the shipped model: its comparisons, thresholds and blocking rules.
    const result = await trainOnDatasets(forLongWork(ctx.db), [{ left: scope, right: scope, label: `dataset ${datasetId}` }], defaultModel());
    const problems = degenerateLevels(result.model);
    if (problems.length) return await fail('degenerate', `The trained model is degenerate and was not kept: ${problems.join('; ')}.`);
    await ctx.db.transaction(async (tx) => {
      await finishModel(tx, partnerId, id, { model: result.model as unknown as Record<string, unknown> });
      await recordEvent(tx, ctx, { action: 'model.train', targetType: 'model', targetId: id, details: { datasetId, pairs: result.pairs } });
    });
  } catch (error) {
    ctx.logger.error({ err: error, modelId: id }, 'model training failed');
    await fail('error', 'Training failed; the exchange logged why. Try again.').catch(() => {});
  }
}

export async function getModel({ ctx, id }: { ctx: ServiceContext; id: string }): Promise<StoredModel> {
  const partnerId = requirePartner(ctx);
  const stored = z.uuid().safeParse(id).success ? await selectModel(ctx.db, partnerId, id) : undefined;
  if (!stored) throw notFound('The model');
  return stored;
}

export async function listModels({ ctx }: { ctx: ServiceContext }): Promise<StoredModel[]> {
  return selectModels(ctx.db, requirePartner(ctx));
}

/** A dataset names its model (a ready one of the same partner), or the default again. */
export async function chooseDatasetModel({ ctx, datasetId, input }: { ctx: ServiceContext; datasetId: string; input: z.input<typeof datasetModelInput> }) {
  const partnerId = requirePartner(ctx);
  const { modelId } = datasetModelInput.parse(input);
  await findOwnDataset(ctx.db, partnerId, datasetId);
  if (modelId) {
    const stored = await selectModel(ctx.db, partnerId, modelId);
    if (!stored) throw notFound('The model');
    if (stored.status !== 'ready') throw new AppError('conflict', `The model is ${stored.status}; only a ready model can be used.`, { reason: `model_${stored.status}` });
  }
  await ctx.db.transaction(async (tx) => {
    await setDatasetModel(tx, partnerId, datasetId, modelId);
    await recordEvent(tx, ctx, { action: 'dataset.model', targetType: 'dataset', targetId: datasetId, details: { model: modelId } });
  });
  forgetModelChoices(ctx.db, partnerId);
  return findOwnDataset(ctx.db, partnerId, datasetId);
}

/**
 * Ready models never change: each is parsed once (and its weight table built once, for the
 * object it keys), not on every match query that reaches its dataset.
 */
const parsedModels = new Map<string, MatchModel>();
const PARSED_KEPT = 256;

function parsedModel(id: string, json: Record<string, unknown>): MatchModel {
  let model = parsedModels.get(id);
  if (!model) {
    model = parseModel(json, `model ${id}`);
    parsedModels.set(id, model);
    if (parsedModels.size > PARSED_KEPT) parsedModels.delete(parsedModels.keys().next().value!);
  }
  return model;
}

/** A model by the name results give it: "default", or a ready model of the partner's. */
export async function modelNamed(db: Queryable, partnerId: string, name: ModelName): Promise<MatchModel> {
  if (name === 'default') return defaultModel();
  const stored = await selectModel(db, partnerId, name);
  if (!stored?.model) throw new Error(`the model ${name} is not a ready model of the partner`);
  return parsedModel(name, stored.model);
}

type DatasetModels = Awaited<ReturnType<typeof selectDatasetModels>>;

/**
 * Which models datasets name, as single queries read them: remembered per database for
 * MODEL_CHOICE_MS, a statement fewer a match. Choosing a model forgets the partner's choices in this
 * process at once; another process of the exchange sees a new choice within that time. A choice
 * says how the grantor's records are scored, not who may read them: keys, consent and revocation
 * are read on every request.
 */
const MODEL_CHOICE_MS = 5_000;
const choices = new WeakMap<Queryable, Map<string, { at: number; named: Promise<DatasetModels> }>>();

function recentDatasetModels(db: Queryable, partnerId: string, datasetIds: string[] | null): Promise<DatasetModels> {
  let remembered = choices.get(db);
  if (!remembered) choices.set(db, (remembered = new Map()));
  const key = `${partnerId}|${datasetIds ? [...datasetIds].sort().join(',') : '*'}`;
  const found = remembered.get(key);
  if (found && Date.now() - found.at < MODEL_CHOICE_MS) return found.named;
  if (remembered.size >= 1_000) remembered.clear();
  const named = selectDatasetModels(db, partnerId, datasetIds);
  remembered.set(key, { at: Date.now(), named });
  named.catch(() => remembered.delete(key));
  return named;
}

function forgetModelChoices(db: Queryable, partnerId: string): void {
  const remembered = choices.get(db);
  for (const key of remembered?.keys() ?? []) if (key.startsWith(`${partnerId}|`)) remembered!.delete(key);
}

/**
 * The model each of a partner's datasets names, with its name (the default for the others), for
 * the given datasets or (null) all of them; and the models in play, the default among them.
 * `recent` accepts a choice up to MODEL_CHOICE_MS old (single queries).
 */
export async function modelsForDatasets(
  db: Queryable,
  partnerId: string,
  datasetIds: readonly string[] | null,
  options: { recent?: boolean } = {},
): Promise<{ modelFor: (datasetId: string) => { model: MatchModel; name: ModelName }; models: MatchModel[] }> {
  const ids = datasetIds && [...new Set(datasetIds)];
  const named = await (options.recent ? recentDatasetModels(db, partnerId, ids) : selectDatasetModels(db, partnerId, ids));
  const models = new Map<string, MatchModel>([['default', defaultModel()]]);
  for (const { id, model } of named.values()) models.set(id, parsedModel(id, model));
  return {
    modelFor: (datasetId) => {
      const found = named.get(datasetId);
      return found ? { model: models.get(found.id)!, name: found.id } : { model: defaultModel(), name: 'default' };
    },
    models: [...models.values()],
  };
}
