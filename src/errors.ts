/** One error type for the whole service; its code decides the HTTP status in one place. */
import type { ZodError } from 'zod';

export const errorCodes = {
  bad_request: { status: 400, title: 'Bad request' },
  validation_failed: { status: 400, title: 'The request is not valid' },
  unauthenticated: { status: 401, title: 'Authentication required' },
  forbidden: { status: 403, title: 'Forbidden' },
  not_found: { status: 404, title: 'Not found' },
  method_not_allowed: { status: 405, title: 'Method not allowed' },
  conflict: { status: 409, title: 'Conflict' },
  payload_too_large: { status: 413, title: 'Payload too large' },
  unsupported_media_type: { status: 415, title: 'Unsupported media type' },
  unprocessable: { status: 422, title: 'Unprocessable content' },
  too_many_requests: { status: 429, title: 'Too many requests' },
  unavailable: { status: 503, title: 'Service unavailable' },
  internal: { status: 500, title: 'Internal server error' },
} as const;

export type ErrorCode = keyof typeof errorCodes;

export interface FieldError {
  /** A JSON Pointer (RFC 6901) to the field: `/name/family`, `/rows/3`; "" for the whole input. */
  path: string;
  message: string;
  /** Where the field is when not in the body: a query parameter, a header or a path parameter. */
  in?: 'query' | 'header' | 'path';
}

/** A JSON Pointer (RFC 6901) from a path's segments (`~` and `/` escaped). */
export function jsonPointer(segments: readonly PropertyKey[]): string {
  return segments.map((segment) => `/${String(segment).replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly errors: FieldError[] | undefined;
  /** A machine-readable reason, where one kind of problem has several (a refused consent token). */
  readonly reason: string | undefined;
  /** Response headers the answer needs (Retry-After on a 429, Allow on a 405). */
  readonly headers: Record<string, string> | undefined;

  constructor(code: ErrorCode, message: string, options: { errors?: FieldError[]; reason?: string; cause?: unknown; headers?: Record<string, string> } = {}) {
    super(message, { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.errors = options.errors;
    this.reason = options.reason;
    this.headers = options.headers;
  }

  get status(): number {
    return errorCodes[this.code].status;
  }
}

/** A service's input that did not fit its schema: a 400 naming each field, never a 500. */
export function invalidInput(error: ZodError): AppError {
  return new AppError('validation_failed', 'Some fields are not valid', {
    errors: error.issues.map((issue) => ({ path: jsonPointer(issue.path), message: issue.message })),
    cause: error,
  });
}

/** The answer for anything a caller may not see, the same whether it exists or not. */
export function notFound(what: string): AppError {
  return new AppError('not_found', `${what} was not found`);
}
