import { z } from 'zod';
import { roleSchema, type Role } from '../core/actor.js';
import type { Queryable } from './database.js';
import { pageOf, type Page, type PageRequest } from './pages.js';

export { roleSchema, type Role };

export const apiKeySchema = z.object({
  id: z.uuid(),
  partnerId: z.uuid().nullable(),
  role: roleSchema,
  name: z.string(),
  prefix: z.string().describe('The first characters of the key, to recognise it; the key itself is never stored.'),
  createdAt: z.date(),
  lastUsedAt: z.date().nullable(),
  revokedAt: z.date().nullable(),
});
export type ApiKey = z.infer<typeof apiKeySchema>;

const columns = `id, partner_id AS "partnerId", role, name, prefix, created_at AS "createdAt",
  last_used_at AS "lastUsedAt", revoked_at AS "revokedAt"`;

export async function insertApiKey(
  db: Queryable,
  input: { partnerId: string | null; role: Role; name: string; prefix: string; keyHash: string },
): Promise<ApiKey> {
  const rows = await db.query<ApiKey>(
    `INSERT INTO api_keys (partner_id, role, name, prefix, key_hash) VALUES ($1, $2, $3, $4, $5) RETURNING ${columns}`,
    [input.partnerId, input.role, input.name, input.prefix, input.keyHash],
  );
  return rows[0]!;
}

/** Keys, optionally of one partner only (null lists the exchange's own auditor and admin keys). */
export async function selectApiKeys(db: Queryable, page: PageRequest, partnerId?: string | null): Promise<Page<ApiKey>> {
  const scope = partnerId === undefined ? 'true' : 'partner_id IS NOT DISTINCT FROM $3::uuid';
  const rows = await db.query<ApiKey>(
    `SELECT ${columns} FROM api_keys WHERE ${scope}
       AND ($1::uuid IS NULL OR (created_at, id) > (SELECT created_at, id FROM api_keys WHERE id = $1::uuid AND ${scope}))
     ORDER BY created_at, id LIMIT $2`,
    partnerId === undefined ? [page.after ?? null, page.limit + 1] : [page.after ?? null, page.limit + 1, partnerId],
  );
  return pageOf(rows, page.limit);
}

/** Whether the exchange has an admin key (revoked ones count: the first was made). */
export async function adminKeyExists(db: Queryable): Promise<boolean> {
  const [row] = await db.query<{ exists: boolean }>(`SELECT EXISTS (SELECT 1 FROM api_keys WHERE partner_id IS NULL AND role = 'admin') AS exists`);
  return row!.exists;
}

/** One key, scoped to a partner when `partnerId` is given, so other partners' keys are invisible. */
export async function selectApiKey(db: Queryable, id: string, partnerId?: string): Promise<ApiKey | undefined> {
  const rows = await db.query<ApiKey>(
    `SELECT ${columns} FROM api_keys WHERE id = $1::uuid ${partnerId ? 'AND partner_id = $2::uuid' : ''}`,
    partnerId ? [id, partnerId] : [id],
  );
  return rows[0];
}

/** The live (not revoked) key with this hash. */
export async function selectLiveApiKeyByHash(db: Queryable, keyHash: string): Promise<ApiKey | undefined> {
  const rows = await db.query<ApiKey>(`SELECT ${columns} FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL`, [keyHash]);
  return rows[0];
}

/** Records a key's use at most once a minute, so authentication is not a write on every request. */
export async function touchApiKey(db: Queryable, id: string): Promise<void> {
  await db.query(
    `UPDATE api_keys SET last_used_at = now()
     WHERE id = $1::uuid AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`,
    [id],
  );
}

export async function revokeApiKeyRow(db: Queryable, id: string): Promise<ApiKey | undefined> {
  const rows = await db.query<ApiKey>(
    `UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1::uuid RETURNING ${columns}`,
    [id],
  );
  return rows[0];
}
