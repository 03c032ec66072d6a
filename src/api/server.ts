/** Serves the app over HTTP and shuts down gracefully: stop accepting, finish requests, close the database. */
import { serve, type ServerType } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createApp, createAppState, type App } from './app.js';
import type { AppDeps } from './env.js';

export interface RunningServer {
  url: string;
  app: App;
  /** Resolves once every request in flight has finished and the database is closed. */
  shutdown(reason?: string): Promise<void>;
}

export async function startServer(deps: AppDeps, options: { app?: App; background?: { drain(): Promise<void> } } = {}): Promise<RunningServer> {
  const state = deps.state ?? createAppState(deps);
  const app = options.app ?? createApp({ ...deps, state });
  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, port: deps.config.PORT, hostname: deps.config.HOST }, () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  const host = deps.config.HOST.includes(':') ? `[${deps.config.HOST}]` : deps.config.HOST;
  const url = `http://${host}:${port}`;
  deps.logger.info({ url, engine: deps.db.engine }, 'listening');

  let closing: Promise<void> | undefined;
  const shutdown = (reason = 'shutdown') => {
    closing ??= (async () => {
      deps.logger.info({ reason }, 'shutting down: no new connections, finishing requests in flight');
      const httpServer = server as Server;
      const closed = new Promise<void>((resolve) => httpServer.close(() => resolve()));
      // Keep-alive connections go idle once their last response is sent; close each as it does.
      httpServer.closeIdleConnections();
      const reaper = setInterval(() => httpServer.closeIdleConnections(), 50);
      const timer = setTimeout(() => {
        deps.logger.warn({ timeoutMs: deps.config.SHUTDOWN_TIMEOUT_MS }, 'requests still running at the shutdown timeout; closing them');
        httpServer.closeAllConnections();
      }, deps.config.SHUTDOWN_TIMEOUT_MS);
      timer.unref();
      await closed;
      clearInterval(reaper);
      clearTimeout(timer);
      // Background work finishes before the database closes: the last minute's failed
      // authentications are written, and every queued audit event is logged.
      await state.authFailures.flush();
      await options.background?.drain();
      await deps.db.close();
      deps.logger.info('stopped');
    })();
    return closing;
  };
  return { url, app, shutdown };
}
