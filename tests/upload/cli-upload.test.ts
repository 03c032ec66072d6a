import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineUnderTest } from '../helpers/database.js';
import { freshCliEnv, runCx, startCxServe, type CliEnv, cliTimeout } from '../helpers/cli.js';
import { sharedData } from '../helpers/mapping.js';

const header = 'rec_id, given_name, surname, street_number, address_1, address_2, suburb, postcode, state, date_of_birth, soc_sec_id';

describe(`uploads through the CLI, and a crash mid-upload, on ${engineUnderTest}`, cliTimeout, () => {
  let cli: CliEnv;
  let server: Awaited<ReturnType<typeof startCxServe>>;
  let partnerKey: string;

  const api = async (path: string, init: RequestInit & { key?: string } = {}) => {
    const { key, ...rest } = init;
    const response = await fetch(`${server.url}${path}`, {
      ...rest,
      headers: { authorization: `Bearer ${key ?? partnerKey}`, 'content-type': 'application/json', ...(rest.headers as Record<string, string>) },
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const newDataset = async (name: string) => (await api('/v1/datasets', { method: 'POST', body: JSON.stringify({ name, defaultMapping: 'febrl' }) })).body.id as string;

  beforeAll(async () => {
    cli = await freshCliEnv();
    server = await startCxServe(cli.env);
    const adminKey = readFileSync(join(cli.dataDir, 'admin.key'), 'utf8').trim();
    await api('/v1/partners', { method: 'POST', key: adminKey, body: JSON.stringify({ slug: 'acme', name: 'Acme' }) });
    partnerKey = (await api('/v1/keys', { method: 'POST', key: adminKey, body: JSON.stringify({ name: 'cli', partner: 'acme' }) })).body.key as string;
  });
  afterAll(async () => {
    server.child.kill('SIGTERM');
    await server.exited;
    await cli.cleanup();
  });

  it('cx upload stores all 1,000 records of FEBRL dataset1', async () => {
    const datasetId = await newDataset('febrl1');
    const result = await runCx(['upload', '--dataset', datasetId, '--mapping', 'febrl', `${sharedData}febrl/dataset1.csv`], { CX_URL: server.url, CX_API_KEY: partnerKey });
    // Not a terminal: no progress bar, only the result line (scripts read stdout and one summary on stderr).
    expect(result.stderr).not.toMatch(/uploading \[/);
    expect(result.stderr).toMatch(/completed: 1000 accepted, 0 rejected; 1000 new, 0 updated, 0 unchanged/);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ status: 'completed', inserted: 1000 });
    expect((await api(`/v1/datasets/${datasetId}`)).body.records).toBe(1000);
  });

  it('cx upload refuses with one line', async () => {
    const noKey = await runCx(['upload', '--dataset', 'x', `${sharedData}febrl/dataset1.csv`], { CX_URL: server.url, CX_API_KEY: '' });
    expect(noKey.code).toBe(1);
    expect(noKey.stderr.trim()).toBe('cx: no API key: pass --key or set CX_API_KEY');
    const unknown = await runCx(['upload', '--dataset', '00000000-0000-4000-8000-000000000000', `${sharedData}febrl/dataset1.csv`], { CX_URL: server.url, CX_API_KEY: partnerKey });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr.trim().split('\n').at(-1)).toBe('cx: upload refused (404): The dataset was not found');
  });

  it('cx datasets and cx uploads list, create and show, as tables or --json, and fetch the rejected rows', async () => {
    const env = { CX_URL: server.url, CX_API_KEY: partnerKey };
    const created = await runCx(['datasets', 'create', 'scripted', '--mapping', 'febrl', '--json'], env);
    expect(created.code, created.stderr).toBe(0);
    const dataset = JSON.parse(created.stdout) as { id: string; name: string; defaultMapping: string };
    expect(dataset).toMatchObject({ name: 'scripted', defaultMapping: 'febrl' });
    // Ten good rows and one without its id: rejected, within the 10 % an upload may reject.
    const good = Array.from({ length: 10 }, (_, i) => `rec-${i}-org, anna${i}, smith, ${i}, main st, , town, 2000, nsw, 198001${String(i + 10)}, ${i}`);
    const rows = `${header}\n${good.join('\n')}\n, bob, jones, 2, high st, , town, 2000, nsw, 19800102, 2\n`;
    const file = join(cli.dataDir, 'two.csv');
    writeFileSync(file, rows);
    const uploaded = await runCx(['upload', '--dataset', dataset.id, file], env);
    expect(uploaded.code, uploaded.stderr).toBe(2);
    const uploadId = (JSON.parse(uploaded.stdout) as { id: string }).id;

    const listed = JSON.parse((await runCx(['datasets', 'list', '--json'], env)).stdout) as { id: string; records: number }[];
    expect(listed.find((d) => d.id === dataset.id)).toMatchObject({ records: 10 });
    const table = (await runCx(['datasets', 'list'], env)).stdout.split('\n');
    expect(table[0]).toMatch(/^id +name +records +defaultMapping/);
    expect(table.some((line) => line.startsWith(dataset.id) && /scripted +10 +febrl/.test(line))).toBe(true);
    expect(JSON.parse((await runCx(['datasets', 'show', dataset.id, '--json'], env)).stdout)).toMatchObject({ id: dataset.id, records: 10 });
    expect((await runCx(['datasets', 'show', dataset.id], env)).stdout).toMatch(/^records +10$/m);

    const uploads = JSON.parse((await runCx(['uploads', 'list', '--dataset', dataset.id, '--json'], env)).stdout) as { id: string; accepted: number; rejected: number }[];
    expect(uploads).toEqual([expect.objectContaining({ id: uploadId, accepted: 10, rejected: 1 })]);
    const shown = JSON.parse((await runCx(['uploads', 'show', uploadId, '--dataset', dataset.id, '--json'], env)).stdout) as { report: unknown };
    expect(shown.report).toBeDefined();
    const rejected = await runCx(['uploads', 'rejected', uploadId, '--dataset', dataset.id], env);
    expect(rejected.code, rejected.stderr).toBe(0);
    expect(rejected.stdout.split('\n')[0]).toBe('row,source_id,column,value,field,reason');
    expect(rejected.stdout).toContain('\n11,,rec_id,,source.recordId,required but empty\n');

    // Another partner's dataset, a closed port and a missing key: one line each.
    const missing = await runCx(['datasets', 'show', '00000000-0000-4000-8000-000000000000'], env);
    expect([missing.code, missing.stderr]).toEqual([1, 'cx: refused (404): The dataset was not found\n']);
    const closed = await runCx(['uploads', 'list', '--dataset', dataset.id], { ...env, CX_URL: 'http://127.0.0.1:9' });
    expect([closed.code, closed.stderr.split('\n').length, closed.stderr]).toEqual([1, 2, expect.stringMatching(/^cx: cannot reach the exchange at http:\/\/127\.0\.0\.1:9/)]);
  });

  it('a server killed mid-upload leaves nothing behind, and serves again after a restart', async () => {
    const datasetId = await newDataset('crash');
    const encoder = new TextEncoder();
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        // 12,000 rows in slow chunks: the server has staged some when it is killed.
        if (sent === 0) controller.enqueue(encoder.encode(`${header}\n`));
        const rows = Array.from({ length: 1000 }, (_, i) => `crash-${sent + i}, ann, smith, 1, main street, , sydney, 2000, nsw, 19800101, 1234567`);
        sent += 1000;
        controller.enqueue(encoder.encode(`${rows.join('\n')}\n`));
        if (sent >= 12_000) controller.close();
        else await new Promise((resolve) => setTimeout(resolve, 150));
      },
    });
    const uploading = fetch(`${server.url}/v1/datasets/${datasetId}/uploads`, {
      method: 'POST',
      headers: { authorization: `Bearer ${partnerKey}`, 'content-type': 'text/csv' },
      body,
      duplex: 'half',
    } as RequestInit).catch((error: unknown) => error);
    while (sent < 7000) await new Promise((resolve) => setTimeout(resolve, 50));
    server.child.kill('SIGKILL');
    await server.exited;
    expect(await uploading).toBeInstanceOf(Error);

    server = await startCxServe(cli.env);
    const dataset = await api(`/v1/datasets/${datasetId}`);
    expect(dataset.status).toBe(200);
    expect(dataset.body.records).toBe(0);
    // The exchange works on: the same file uploads whole.
    const rows = Array.from({ length: 10 }, (_, i) => `crash-${i}, ann, smith, 1, main street, , sydney, 2000, nsw, 19800101, 1234567`);
    const response = await fetch(`${server.url}/v1/datasets/${datasetId}/uploads`, {
      method: 'POST',
      headers: { authorization: `Bearer ${partnerKey}`, 'content-type': 'text/csv' },
      body: `${header}\n${rows.join('\n')}\n`,
    });
    expect(response.status).toBe(201);
    expect((await api(`/v1/datasets/${datasetId}`)).body.records).toBe(10);
  });
});
