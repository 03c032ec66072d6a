/**
 * The API reference in a real browser with no network: Chromium may reach the exchange and
 * nothing else, so a script or a style from a CDN would fail to load, and the page would not
 * list the operations.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshCliEnv, startCxServe, type CliEnv, cliTimeout } from '../helpers/cli.js';
import { engineUnderTest } from '../helpers/database.js';

const chromiumPath = '/usr/bin/chromium';

describe(`the API reference in a browser, offline, on ${engineUnderTest}`, cliTimeout, () => {
  let cli: CliEnv;
  let server: Awaited<ReturnType<typeof startCxServe>>;
  let browser: Browser;

  beforeAll(async () => {
    // .ci/run installs Debian's chromium when it is missing; without it this fails, never skips.
    expect(existsSync(chromiumPath), `${chromiumPath}: apt-get install chromium`).toBe(true);
    cli = await freshCliEnv();
    server = await startCxServe(cli.env);
    browser = await chromium.launch({
      executablePath: chromiumPath,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    server?.child.kill('SIGTERM');
    await server?.exited;
    await cli?.cleanup();
  });

  it('loads /docs with every request served by the exchange, and shows an operation', async () => {
    const page = await browser.newPage();
    const origin = new URL(server.url).origin;
    const elsewhere: string[] = [];
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith(origin) || url.startsWith('data:')) return route.continue();
      elsewhere.push(url);
      return route.abort('internetdisconnected');
    });
    const failed: string[] = [];
    page.on('requestfailed', (request) => failed.push(request.url()));
    page.on('pageerror', (error) => failed.push(error.message));
    await page.goto(`${server.url}/docs`);
    await page.getByText('getRecord', { exact: true }).first().waitFor({ timeout: 30_000 });
    await expect(page.title()).resolves.toBe('Customer Exchange API');
    expect(await page.getByText('/v1/datasets/{datasetId}/records/{sourceId}').count()).toBeGreaterThan(0);
    expect(elsewhere).toEqual([]);
    expect(failed).toEqual([]);
  });
});
