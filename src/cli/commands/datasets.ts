/** `cx datasets` and `cx uploads`: a partner's own datasets and uploads on a running exchange. */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { answerOf, exchangeClient, keyOption, urlOption, type ExchangeOptions } from '../http.js';
import { jsonOption, printJson, printRecord, printTable } from '../output.js';

type Listed<T> = { items: T[]; nextCursor: string | number | null };

/** Every page of a list, following nextCursor. */
async function everyItem<T>(fetchPage: (cursor: string | undefined) => Promise<Listed<T>>): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await fetchPage(cursor);
    items.push(...page.items);
    cursor = page.nextCursor === null ? undefined : String(page.nextCursor);
  } while (cursor !== undefined);
  return items;
}

const datasetColumns = ['id', 'name', 'records', 'defaultMapping', 'modelId', 'loading', 'createdAt'];
const uploadColumns = ['id', 'status', 'accepted', 'rejected', 'inserted', 'updated', 'unchanged', 'mapping', 'createdAt'];

type Remote = ExchangeOptions & { json?: boolean };

function remote(command: Command): Command {
  return command.addOption(urlOption()).addOption(keyOption()).addOption(jsonOption());
}

export function registerDatasets(program: Command): void {
  const datasets = program.command('datasets').description('your datasets on a running exchange: list, create, show');
  remote(datasets.command('list').description('list your datasets'))
    .action(async (options: Remote) => {
      const client = exchangeClient(options);
      const items = await everyItem((cursor) => answerOf(client.GET('/v1/datasets', { params: { query: { cursor, limit: 100 } } })));
      printTable(items, datasetColumns, options);
    });
  remote(datasets.command('create').description('create a dataset').argument('<name>', 'its name'))
    .option('-m, --mapping <name>', 'the mapping its uploads use when they name none')
    .option('--description <text>', 'what it holds')
    .action(async (name: string, options: Remote & { mapping?: string; description?: string }) => {
      const client = exchangeClient(options);
      const created = await answerOf(client.POST('/v1/datasets', { body: { name, defaultMapping: options.mapping, description: options.description } }));
      if (options.json) printJson(created);
      else process.stdout.write(`${created.id}\n`);
    });
  remote(datasets.command('show').description('one of your datasets').argument('<id>', 'the dataset id'))
    .action(async (datasetId: string, options: Remote) => {
      const client = exchangeClient(options);
      const dataset = await answerOf(client.GET('/v1/datasets/{datasetId}', { params: { path: { datasetId } } }));
      printRecord(dataset, ['id', 'name', 'description', 'records', 'defaultMapping', 'modelId', 'standardVersion', 'loading', 'createdAt'], options);
    });

  const uploads = program.command('uploads').description("a dataset's uploads on a running exchange: list, show, the rejected rows");
  remote(uploads.command('list').description("a dataset's uploads, newest first").requiredOption('-d, --dataset <id>', 'the dataset id'))
    .action(async (options: Remote & { dataset: string }) => {
      const client = exchangeClient(options);
      const items = await everyItem((cursor) =>
        answerOf(client.GET('/v1/datasets/{datasetId}/uploads', { params: { path: { datasetId: options.dataset }, query: { cursor, limit: 100 } } })),
      );
      printTable(items, uploadColumns, options);
    });
  remote(uploads.command('show').description('an upload: status, counts and (with --json) its quality report').argument('<id>', 'the upload id'))
    .requiredOption('-d, --dataset <id>', 'the dataset id')
    .action(async (uploadId: string, options: Remote & { dataset: string }) => {
      const client = exchangeClient(options);
      const upload = await answerOf(client.GET('/v1/datasets/{datasetId}/uploads/{uploadId}', { params: { path: { datasetId: options.dataset, uploadId } } }));
      printRecord(upload, ['id', 'status', 'reason', ...uploadColumns.slice(2), 'contentType', 'bytes', 'idempotencyKey'], options);
    });
  uploads
    .command('rejected')
    .description('the rows an upload rejected, with their reasons, as CSV')
    .argument('<id>', 'the upload id')
    .requiredOption('-d, --dataset <id>', 'the dataset id')
    .option('-o, --out <file>', 'where to write the CSV (default: standard output)')
    .addOption(urlOption())
    .addOption(keyOption())
    .action(async (uploadId: string, options: ExchangeOptions & { dataset: string; out?: string }) => {
      const client = exchangeClient(options);
      const csv = await answerOf(
        client.GET('/v1/datasets/{datasetId}/uploads/{uploadId}/rejected.csv', { params: { path: { datasetId: options.dataset, uploadId } }, parseAs: 'text' }),
      );
      if (options.out) writeFileSync(options.out, csv);
      else process.stdout.write(csv);
    });
}
