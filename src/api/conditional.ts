/**
 * Conditional reads of records (RFC 9110 §8.8.3, §13.1.2): an `ETag` naming the version sent, and
 * `If-None-Match` answered with 304 when the caller already holds it. The tag is the record's
 * version with a digest of the representation, since a grantee's cut-down record and the owner's
 * whole record of the same version are different representations.
 */
import { createHash } from 'node:crypto';
import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';

export function recordEntityTag(version: number, body: unknown): string {
  return `"v${version}-${createHash('sha256').update(JSON.stringify(body)).digest('base64url').slice(0, 16)}"`;
}

/** Whether an If-None-Match field names this tag: `*`, or any listed tag, compared weakly. */
export function noneMatchHits(field: string | undefined, etag: string): boolean {
  if (field === undefined) return false;
  if (field.trim() === '*') return true;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, '');
  return (field.match(/(?:W\/)?"[^"]*"/g) ?? []).some((tag) => opaque(tag) === opaque(etag));
}

export const ifNoneMatchHeader = z.object({
  'if-none-match': z.string().max(2000).optional().describe('An ETag from an earlier answer: 304 if the record is still that version.'),
});

export const etagHeaders = { ETag: { description: "The record's version and a digest of this representation.", schema: { type: 'string' as const } } };

export const notModifiedResponse = { description: 'Not modified: the caller holds this version (If-None-Match).', headers: etagHeaders };

/** The record with its ETag, or 304 with no body when If-None-Match already names it. */
export function respondWithEntityTag<B extends object>(c: Context, version: number, body: B) {
  const etag = recordEntityTag(version, body);
  c.header('etag', etag);
  if (noneMatchHits(c.req.header('if-none-match'), etag)) return c.body(null, 304);
  return c.json(body, 200);
}
