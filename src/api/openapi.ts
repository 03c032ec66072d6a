/** Small helpers the route definitions share. */
import { z } from '@hono/zod-openapi';

/** A JSON response in a route definition. */
export function jsonResponse<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { 'application/json': { schema } } };
}

/** Routes that need an API key. */
export const bearerSecurity = [{ bearerAuth: [] }];

/** The header that carries a grantor's consent token, on every route that reads another partner's data. */
export const consentTokenHeader = z.object({
  'consent-token': z.string().optional().describe("The grantor's signed consent token (JWS compact, typ consent+jwt)."),
});
