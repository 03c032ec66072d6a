/** Small helpers the route definitions share. */
import type { z } from '@hono/zod-openapi';

/** A JSON response in a route definition. */
export function jsonResponse<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { 'application/json': { schema } } };
}

/** Routes that need an API key. */
export const bearerSecurity = [{ bearerAuth: [] }];
