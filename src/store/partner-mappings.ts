/** A partner's own mappings. */
import type { Queryable } from './database.js';

export interface StoredMapping {
  name: string;
  mapping: Record<string, unknown>;
  createdAt: Date;
  updatedAt: Date;
}

const columns = `name, mapping, created_at AS "createdAt", updated_at AS "updatedAt"`;

/** Saves (or replaces) a mapping; says whether it was new. */
export async function upsertPartnerMapping(tx: Queryable, partnerId: string, name: string, mapping: unknown): Promise<{ stored: StoredMapping; created: boolean }> {
  const [row] = await tx.query<StoredMapping & { created: boolean }>(
    `INSERT INTO partner_mappings (partner_id, name, mapping) VALUES ($1, $2, $3)
     ON CONFLICT (partner_id, name) DO UPDATE SET mapping = EXCLUDED.mapping, updated_at = now()
     RETURNING ${columns}, (xmax = 0) AS created`,
    [partnerId, name, mapping],
  );
  const { created, ...stored } = row!;
  return { stored, created };
}

export async function selectPartnerMapping(db: Queryable, partnerId: string, name: string): Promise<StoredMapping | undefined> {
  const [row] = await db.query<StoredMapping>(`SELECT ${columns} FROM partner_mappings WHERE partner_id = $1 AND name = $2`, [partnerId, name]);
  return row;
}

export async function selectPartnerMappings(db: Queryable, partnerId: string): Promise<StoredMapping[]> {
  return db.query<StoredMapping>(`SELECT ${columns} FROM partner_mappings WHERE partner_id = $1 ORDER BY name`, [partnerId]);
}
