import { readFileSync } from 'node:fs';
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
