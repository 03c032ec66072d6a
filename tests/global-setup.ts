/**
 * Builds one migrated template database per run, so each test file starts from a fresh copy:
 * a PGlite data-directory dump, or (with TEST_DATABASE_URL) a template database on the server.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { migrate } from '../src/store/migrate.js';
import { dumpPglite, openPglite } from '../src/store/pglite.js';
import { connectPostgres, openPostgres } from '../src/store/postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    templateDump: string;
    templateDatabase: string;
  }
}

export default async function setup(project: TestProject) {
  const url = process.env.TEST_DATABASE_URL;
  if (url) {
    const name = `cx_template_${process.pid}`;
    const admin = connectPostgres(url, { max: 1, onnotice: () => {} });
    await admin.unsafe(`DROP DATABASE IF EXISTS ${name}`);
    await admin.unsafe(`CREATE DATABASE ${name}`);
    const target = new URL(url);
    target.pathname = `/${name}`;
    const db = openPostgres(target.toString());
    await migrate(db);
    await db.close();
    project.provide('templateDatabase', name);
    project.provide('templateDump', '');
    return async () => {
      await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    };
  }
  const directory = mkdtempSync(join(tmpdir(), 'cx-template-'));
  const db = await openPglite(join(directory, 'pg'));
  await migrate(db);
  await db.close();
  const dump = await dumpPglite(join(directory, 'pg'));
  const file = join(directory, 'template.tar');
  writeFileSync(file, Buffer.from(await dump.arrayBuffer()));
  project.provide('templateDump', file);
  project.provide('templateDatabase', '');
  return () => rmSync(directory, { recursive: true, force: true });
}
