/** pino JSON logs. Credentials are redacted wherever they might appear. */
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'customer-exchange' },
      redact: {
        paths: ['authorization', '*.authorization', 'headers.authorization', 'key', '*.key', 'token', '*.token'],
        censor: '[redacted]',
      },
    },
    destination ?? pino.destination({ fd: 2, sync: false }),
  );
}
