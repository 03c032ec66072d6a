/** Per-dataset match models: train one on your own dataset, read it, and name it for a dataset. */
import { createRoute, z } from '@hono/zod-openapi';
import { chooseDatasetModel, createModel, createModelInput, datasetModelInput, getModel, listModels } from '../../services/models.js';
import { datasetSchema } from '../../store/datasets.js';
import { storedModelSchema } from '../../store/models.js';
import type { App } from '../app.js';
import { serviceContext } from '../env.js';
import { requireActor } from '../middleware/require-actor.js';
import { bearerSecurity, createdResponse, jsonResponse } from '../openapi.js';
import { problemResponses } from '../problem.js';

const partnerOnly = requireActor('partner');

const create = createRoute({
  method: 'post',
  path: '/v1/models',
  operationId: 'createModel',
  tags: ['matching'],
  summary: 'Train a match model on one of your datasets, in the background',
  description:
    'Without labels, as Splink does: u from random pairs, m by EM in passes blocked on names and on birth dates, the prior over all candidate pairs. Reads only your dataset. A degenerate model (a disagreement counted for a match) fails with the reason. Poll it until it is ready, then name it for a dataset (PUT /v1/datasets/{id}/model).',
  security: bearerSecurity,
  middleware: partnerOnly,
  request: { body: { required: true, content: { 'application/json': { schema: createModelInput } } } },
  responses: { 202: createdResponse(storedModelSchema, 'Accepted; training in the background'), ...problemResponses(400, 401, 403, 404) },
});

const list = createRoute({
  method: 'get',
  path: '/v1/models',
  operationId: 'listModels',
  tags: ['matching'],
  summary: 'Your models',
  description: 'Your match models: status, the dataset each was trained on, and when.',
  security: bearerSecurity,
  middleware: partnerOnly,
  responses: { 200: jsonResponse(z.object({ items: z.array(storedModelSchema) }), 'Your models, oldest first'), ...problemResponses(401, 403) },
});

const get = createRoute({
  method: 'get',
  path: '/v1/models/{modelId}',
  operationId: 'getModel',
  tags: ['matching'],
  summary: 'A model: its status and, once ready, its JSON (everything it was trained with)',
  description: 'A model of yours: its status and, once ready, the model JSON with everything it was trained with.',
  security: bearerSecurity,
  middleware: partnerOnly,
  request: { params: z.object({ modelId: z.string().max(100) }) },
  responses: { 200: jsonResponse(storedModelSchema, 'The model'), ...problemResponses(401, 403, 404) },
});

const choose = createRoute({
  method: 'put',
  path: '/v1/datasets/{datasetId}/model',
  operationId: 'setDatasetModel',
  tags: ['datasets'],
  summary: 'Name the model that scores matches in this dataset (null: the shipped default)',
  description: 'Names the model that scores matches against this dataset, in queries and linkage jobs; null returns it to the shipped default.',
  security: bearerSecurity,
  middleware: partnerOnly,
  request: { params: z.object({ datasetId: z.uuid() }), body: { required: true, content: { 'application/json': { schema: datasetModelInput } } } },
  responses: { 200: jsonResponse(datasetSchema, 'The dataset, naming its model'), ...problemResponses(400, 401, 403, 404, 409) },
});

export function registerModels(app: App): void {
  app.openapi(create, async (c) => {
    const stored = await createModel({ ctx: serviceContext(c), input: c.req.valid('json') });
    c.header('location', `/v1/models/${stored.id}`);
    return c.json(stored, 202);
  });
  app.openapi(list, async (c) => c.json({ items: await listModels({ ctx: serviceContext(c) }) }, 200));
  app.openapi(get, async (c) => c.json(await getModel({ ctx: serviceContext(c), id: c.req.valid('param').modelId }), 200));
  app.openapi(choose, async (c) => c.json(await chooseDatasetModel({ ctx: serviceContext(c), datasetId: c.req.valid('param').datasetId, input: c.req.valid('json') }), 200));
}
