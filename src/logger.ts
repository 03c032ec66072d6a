/**
 * pino JSON logs. Credentials are redacted wherever they might appear, and errors are logged
 * without the values they quote: a database or parser error names the offending text (a COPY line
 * holding a whole record, a CSV field), and that text is somebody's personal data.
 */
import { pino, type Logger } from 'pino';
import { withoutQuotedValues } from './core/redact.js';

export type { Logger };


/**
 * An error as a log may show it: its kind, codes and code location, and its message with quoted
 * values cut out; never the fields drivers and parsers attach (detail, where, query, parameters,
 * record, field).
 */
export function safeError(error: unknown, depth = 0): Record<string, unknown> {
  if (!(error instanceof Error)) return { type: typeof error };
  const fields = error as Error & { code?: unknown; routine?: unknown; severity?: unknown };
  const frames = (error.stack ?? '').split('\n').filter((line) => /^\s+at /.test(line)).slice(0, 15);
  return {
    type: error.name,
    message: withoutQuotedValues(error.message, '"[value]"'),
    ...(typeof fields.code === 'string' ? { code: fields.code } : {}),
    ...(typeof fields.routine === 'string' ? { routine: fields.routine } : {}),
    stack: frames.join('\n'),
    ...(error.cause !== undefined && depth < 3 ? { cause: safeError(error.cause, depth + 1) } : {}),
  };
}

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'customer-exchange' },
      serializers: { err: (error: unknown) => safeError(error) },
      redact: {
        paths: ['authorization', '*.authorization', 'headers.authorization', 'key', '*.key', 'token', '*.token'],
        censor: '[redacted]',
      },
    },
    destination ?? pino.destination({ fd: 2, sync: false }),
  );
}
