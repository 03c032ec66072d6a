/**
 * The offline tools' engine: an embedded database in a temporary directory, where input files are
 * mapped and loaded as datasets by the same upload code the service runs, then linked by the same
 * candidate retrieval and scoring.
 */
import { mkdtempSync, rmSync, createReadStream, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { loadConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { loadMapping } from '../mapping/load.js';
import { mapInput } from '../mapping/run.js';
import { createDataset } from '../services/create-dataset.js';
import { createPartner } from '../services/create-partner.js';
import type { ServiceContext } from '../services/context.js';
import { uploadDataset } from '../services/upload-dataset.js';
import type { DatasetScope } from '../store/candidates.js';
import type { Database } from '../store/database.js';
import { migrate } from '../store/migrate.js';
import { openPglite } from '../store/pglite.js';
import { CliError } from './runtime.js';

export interface Workspace {
  db: Database;
  load(file: string, mapping: string, name: string, onRows?: (rows: number) => void): Promise<DatasetScope & { rejected: number }>;
  close(): Promise<void>;
}

/** A workspace in a new embedded database in a temporary directory, removed on close. */
export async function openWorkspace(): Promise<Workspace> {
  const dir = mkdtempSync(join(tmpdir(), 'cx-link-'));
  const db = await openPglite(join(dir, 'pg'));
  await migrate(db);
  const workspace = await createWorkspace(db);
  return {
    ...workspace,
    async close() {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A workspace on a migrated database (the tests run it on both engines). */
export async function createWorkspace(db: Database): Promise<Workspace> {
  const config = loadConfig({ LOG_LEVEL: 'warn', UPLOAD_MAX_REJECTED_RATIO: '1', UPLOAD_LIMIT_BYTES: String(64 * 1024 ** 3) });
  const operator: ServiceContext = { db, config, logger: createLogger('warn'), actor: { type: 'operator' }, requestId: null };
  const partner = await createPartner({ ctx: operator, input: { slug: `local-${randomBytes(4).toString('hex')}`, name: 'Local files' } });
  const ctx: ServiceContext = { ...operator, actor: { type: 'api_key', keyId: 'offline', role: 'partner', partnerId: partner.id } };
  return {
    db,
    async load(file, mappingName, name, onRows) {
      if (!existsSync(file)) throw new CliError(`no such file: ${file}`);
      const mapping = loadMapping(mappingName);
      const lines: string[] = [];
      const report = await mapInput({ input: createReadStream(file), mapping, onRecord: (record) => void lines.push(JSON.stringify(record)), onProgress: onRows });
      const dataset = await createDataset({ ctx, input: { name } });
      const { upload } = await uploadDataset({
        ctx,
        datasetId: dataset.id,
        input: { body: Readable.from(lines.map((line) => `${line}\n`)), contentType: 'application/x-ndjson', mapping: 'canonical' },
      });
      return { partnerId: partner.id, datasetId: dataset.id, rejected: report.rejected + upload.rejected };
    },
    close: () => db.close(),
  };
}
