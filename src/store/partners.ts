import { z } from 'zod';
import type { Queryable } from './database.js';
import { pageOf, type Page, type PageRequest } from './pages.js';

export const partnerSlugSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'use 2–63 lowercase letters, digits or hyphens, starting with a letter or digit');

export const partnerSchema = z.object({
  id: z.uuid(),
  slug: partnerSlugSchema,
  name: z.string().min(1).max(200),
  createdAt: z.date(),
});
export type Partner = z.infer<typeof partnerSchema>;

const columns = `id, slug, name, created_at AS "createdAt"`;

export async function insertPartner(db: Queryable, input: { slug: string; name: string }): Promise<Partner | undefined> {
  const rows = await db.query<Partner>(
    `INSERT INTO partners (slug, name) VALUES ($1, $2) ON CONFLICT (slug) DO NOTHING RETURNING ${columns}`,
    [input.slug, input.name],
  );
  return rows[0];
}

/** Partners by slug, a page at a time. */
export async function selectPartners(db: Queryable, page: PageRequest): Promise<Page<Partner>> {
  const rows = await db.query<Partner>(
    `SELECT ${columns} FROM partners WHERE $1::uuid IS NULL OR slug > (SELECT slug FROM partners WHERE id = $1::uuid) ORDER BY slug LIMIT $2`,
    [page.after ?? null, page.limit + 1],
  );
  return pageOf(rows, page.limit);
}

/** Finds a partner by id or slug. */
export async function selectPartner(db: Queryable, idOrSlug: string): Promise<Partner | undefined> {
  const byId = z.uuid().safeParse(idOrSlug).success;
  const rows = await db.query<Partner>(
    `SELECT ${columns} FROM partners WHERE ${byId ? 'id = $1::uuid' : 'slug = $1'}`,
    [idOrSlug],
  );
  return rows[0];
}
