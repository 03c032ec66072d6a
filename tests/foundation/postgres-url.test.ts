/**
 * DATABASE_URL as libpq reads it: `?host=/a/directory` names the server's Unix socket (a server on
 * the same machine, without TCP). postgres.js alone would send `host` to the server as a setting,
 * which refuses it. A server-only capability: PGlite has no URL.
 */
import { accessSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openPostgres } from '../../src/store/postgres.js';
import { engineUnderTest } from '../helpers/database.js';

describe.runIf(engineUnderTest === 'postgres')('a DATABASE_URL naming a Unix socket', () => {
  it('connects through the socket directory given as ?host=', async (context) => {
    const url = new URL(process.env.TEST_DATABASE_URL!);
    const overTcp = openPostgres(url.toString(), { max: 1 });
    const [shown] = await overTcp.query<{ unix_socket_directories: string }>('SHOW unix_socket_directories');
    await overTcp.close();
    const directory = shown!.unix_socket_directories.split(',')[0]!.trim();
    try {
      accessSync(directory);
    } catch {
      context.skip(`the server's socket directory ${directory} is not reachable from here`);
    }
    const viaSocket = new URL(url);
    viaSocket.hostname = 'localhost';
    viaSocket.port = '';
    viaSocket.searchParams.set('host', directory);
    // The URL's other parameters are still the server's settings.
    viaSocket.searchParams.set('statement_timeout', '123000');
    const db = openPostgres(viaSocket.toString(), { max: 1 });
    try {
      // A connection over a Unix socket has no server address.
      const [row] = await db.query<{ address: string | null; database: string; timeout: string }>(
        `SELECT inet_server_addr()::text AS address, current_database() AS database, current_setting('statement_timeout') AS timeout`,
      );
      expect(row).toEqual({ address: null, database: url.pathname.slice(1), timeout: '123s' });
    } finally {
      await db.close();
    }
  });
});
