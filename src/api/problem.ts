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

/** FHIR's issue type for each status (http://hl7.org/fhir/issue-type). */
const issueTypes: Record<number, string> = { 400: 'invalid', 401: 'login', 403: 'forbidden', 404: 'not-found', 405: 'not-supported', 409: 'conflict', 413: 'too-long', 415: 'not-supported', 429: 'throttled', 503: 'transient' };

/** A FHIR client's error answer: an R4 OperationOutcome with the problem's detail, an issue per invalid field. */
export function operationOutcome(problem: Problem) {
  const code = issueTypes[problem.status] ?? (problem.status >= 500 ? 'exception' : 'processing');
  const issue = (diagnostics: string, path?: string) => ({
    severity: 'error' as const,
    code,
    details: { ...(problem.reason ? { coding: [{ system: problem.type, code: problem.reason }] } : {}), text: problem.title },
    diagnostics,
    // JSON Pointer to the FHIRPath-like location FHIR asks for: /parameter/0/resource/name -> parameter[0].resource.name
    ...(path ? { expression: [path.slice(1).split('/').map((part) => (/^\d+$/.test(part) ? `[${part}]` : `.${part.replaceAll('~1', '/').replaceAll('~0', '~')}`)).join('').replace(/^\./, '') || 'Parameters'] } : {}),
  });
  return {
    resourceType: 'OperationOutcome' as const,
    id: problem.requestId?.replace(/[^A-Za-z0-9.-]/g, '-').slice(0, 64) || undefined,
    issue: problem.errors?.length ? problem.errors.map((e) => issue(`${problem.detail} ${e.message}`, e.path || undefined)) : [issue(problem.detail)],
  };
}

/** Whether the client asked for FHIR's JSON (a FHIR client: errors answered as OperationOutcome). */
export function wantsFhir(c: Context): boolean {
  return (c.req.header('accept') ?? '').includes('application/fhir+json');
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
  const fhir = wantsFhir(c);
  const headers: Record<string, string> = { ...error.headers, 'content-type': fhir ? 'application/fhir+json' : 'application/problem+json', 'cache-control': 'no-store' };
  if (error.code === 'unauthenticated') headers['www-authenticate'] = 'Bearer realm="customer-exchange"';
  return new Response(JSON.stringify(fhir ? operationOutcome(body) : body), { status: error.status, headers });
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
