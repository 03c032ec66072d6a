import { writeFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { adminKeyExists } from '../store/api-keys.js';
import { createApiKey } from './create-api-key.js';
import type { ServiceContext } from './context.js';

/**
 * On a new exchange (no admin key yet) creates the first admin key and writes it to
 * DATA_DIR/admin.key (readable by the owner only), so a new operator can start at once.
 * Returns the file's path when it made one.
 */
export async function ensureAdminKey({ ctx }: { ctx: ServiceContext }): Promise<string | undefined> {
  if (await adminKeyExists(ctx.db)) return undefined;
  const { key } = await createApiKey({ ctx: { ...ctx, actor: { type: 'system' } }, input: { name: 'first admin key', role: 'admin' } });
  const directory = resolve(ctx.config.DATA_DIR);
  mkdirSync(directory, { recursive: true });
  const file = join(directory, 'admin.key');
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  return file;
}
