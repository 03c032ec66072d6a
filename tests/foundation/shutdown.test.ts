import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../../src/api/server.js';
import { createTestExchange, type TestExchange } from '../helpers/app.js';
import { engineUnderTest } from '../helpers/database.js';

describe(`graceful shutdown on ${engineUnderTest}`, () => {
  let ex: TestExchange;
  beforeAll(async () => {
    ex = await createTestExchange({ PORT: '0' });
  });
  afterAll(async () => {
    await ex.db.close().catch(() => {});
  });

  it('finishes the request in flight, refuses new connections, then closes the database', async () => {
    let closed = false;
    const db = { ...ex.db, close: async () => ((closed = true), ex.db.close()) };
    ex.app.get('/test/slow', async (c) => {
      await new Promise((resolve) => setTimeout(resolve, 400));
      return c.json({ finished: true });
    });
    const server = await startServer({ db, config: ex.config, logger: ex.logger }, { app: ex.app });
    const inFlight = fetch(`${server.url}/test/slow`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const stopping = server.shutdown('test');
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ finished: true });
    await stopping;
    expect(closed).toBe(true);
  });
});
