/** RFC 9457 problem details: the one shape of every error answer. */
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { z } from '@hono/zod-openapi';
import { ZodError } from 'zod';
import { AppError, errorCodes, invalidInput, type ErrorCode } from '../errors.js';

export const problemSchema = z.object({
  type: z.string().describe('A URI naming the kind of problem.'),
  title: z.string(),
  status: z.number().int(),
  detail: z.string().describe('What went wrong and what to do about it.'),
  instance: z.string().describe('The request path.'),
  requestId: z.string().nullable(),
  errors: z
    .array(
      z.object({
        path: z.string().describe('A JSON Pointer (RFC 6901) to the invalid field, for example /name/family; "" for the whole input.'),
        message: z.string(),
        in: z.enum(['query', 'header', 'path']).optional().describe('Where the field is, when not in the body.'),
      }),
    )
    .optional(),
  reason: z.string().optional().describe('A machine-readable reason, where one kind of problem has several (for example why a consent token was refused).'),
}).openapi('Problem', { description: 'RFC 9457 problem details.' });
export type Problem = z.infer<typeof problemSchema>;

export function problemType(code: ErrorCode): string {
  return `urn:customer-exchange:problem:${code}`;
}

/** Maps anything thrown to an AppError; unknown errors become a 500 that reveals nothing. */
export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (error instanceof ZodError) return invalidInput(error);
  if (error instanceof HTTPException) {
    const code = (Object.keys(errorCodes) as ErrorCode[]).find((c) => errorCodes[c].status === error.status && c !== 'validation_failed');
    if (code && error.status < 500) return new AppError(code, error.message || errorCodes[code].title);
  }
  return new AppError('internal', 'The exchange failed to handle this request. Quote the request id when you report it.', { cause: error });
}

export function problemResponse(c: Context, error: AppError): Response {
  const body: Problem = {
    type: problemType(error.code),
    title: errorCodes[error.code].title,
    status: error.status,
    detail: error.message,
    instance: c.req.path,
    requestId: (c.get('requestId') as string | undefined) ?? null,
    ...(error.errors ? { errors: error.errors } : {}),
    ...(error.reason ? { reason: error.reason } : {}),
  };
  const headers: Record<string, string> = { ...error.headers, 'content-type': 'application/problem+json', 'cache-control': 'no-store' };
  if (error.code === 'unauthenticated') headers['www-authenticate'] = 'Bearer realm="customer-exchange"';
  return new Response(JSON.stringify(body), { status: error.status, headers });
}

/** A problem answer's content in OpenAPI: one schema, referenced. */
export const problemContent = { 'application/problem+json': { schema: problemSchema } };

/** The problem responses a route documents in OpenAPI. */
export function problemResponses(...statuses: number[]) {
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      {
        description: Object.values(errorCodes).find((e) => e.status === status)?.title ?? 'Error',
        content: problemContent,
      },
    ]),
  );
}
