/** The service's configuration: parsed once from the environment, then passed down. */
import { availableParallelism } from 'node:os';
import { z } from 'zod';

const byteSize = z.coerce.number().int().positive();

export const configSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .optional(),
  /**
   * Requests' connections to the PostgreSQL server at once: about twice the database server's cores.
   * On two, 4 connections matched 247–326 times a second and 10 only 196–219 (switching between busy
   * backends costs more than it gains). By default twice this machine's cores, from 4 to 10.
   */
  DATABASE_POOL_SIZE: z.coerce.number().int().min(2).max(100).default(Math.min(10, Math.max(4, 2 * availableParallelism()))),
  /** Connections for work that holds one for long, apart from the requests': an upload holds one while its body streams in, batch linkage two. */
  DATABASE_LONG_WORK_POOL_SIZE: z.coerce.number().int().min(2).max(100).default(10),
  DATA_DIR: z.string().min(1).default('./data'),
  /** The exchange's master secret (32+ bytes, base64url); unset: DATA_DIR/exchange.secret, made on first start. */
  EXCHANGE_SECRET: z.string().regex(/^[A-Za-z0-9_-]{43,}$/, 'must be at least 32 bytes in base64url').optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  BODY_LIMIT_BYTES: byteSize.default(1024 * 1024),
  UPLOAD_LIMIT_BYTES: byteSize.default(1024 * 1024 * 1024),
  UPLOAD_MAX_ROW_BYTES: byteSize.default(1024 * 1024),
  UPLOAD_MAX_REJECTED_RATIO: z.coerce.number().min(0).max(1).default(0.1),
  /** Uploads declaring at least this many bytes, or no size at all, are mapped in a worker thread. */
  UPLOAD_WORKER_MIN_BYTES: byteSize.default(4 * 1024 * 1024),
  /** Mapping workers at once; by default one core fewer than the machine has, leaving one for the service and the database. */
  UPLOAD_WORKERS: z.coerce.number().int().min(0).default(Math.max(1, availableParallelism() - 1)),
  /** Linkage jobs that compare in a second thread at once (each holds another copy of the records it links); 0: all in the service's thread. */
  LINKAGE_WORKERS: z.coerce.number().int().min(0).default(1),
  /** The exchange's id: the audience (`aud`) every consent token must name. */
  EXCHANGE_ID: z.string().min(1).max(200).default('urn:customer-exchange'),
  CONSENT_MAX_LIFETIME_DAYS: z.coerce.number().positive().max(3650).default(90),
  CONSENT_CLOCK_TOLERANCE_SECONDS: z.coerce.number().int().min(0).max(600).default(60),
  CONSENT_MAX_TOKEN_BYTES: byteSize.default(8 * 1024),
  /** How long /readyz waits for the database: past it every connection is busy, and the service is not ready. */
  READY_TIMEOUT_MS: z.coerce.number().int().positive().default(2000),
  /** The audit log's name in its checkpoints (and its key's name): a schema-less URL of this exchange. */
  AUDIT_LOG_ORIGIN: z.string().regex(/^[^\s+]+$/, 'no spaces or plus signs').default('customer-exchange.local/audit'),
  /** How often the integrator looks for new audit events (Tessera batches every 250 ms). */
  AUDIT_INTEGRATE_INTERVAL_MS: z.coerce.number().int().positive().default(250),
  /** Witnesses asked to cosign each checkpoint: `url|vkey` pairs separated by commas (see cx audit witness). */
  AUDIT_WITNESSES: z.string().default(''),
  /** Distinct criteria one consent token may bring to any one record before its queries are refused. */
  MATCH_PROBE_BUDGET: z.coerce.number().int().positive().default(5),
  /** How long an upload's Idempotency-Key stands for it; after that the key may name a new upload. */
  IDEMPOTENCY_KEY_TTL_SECONDS: z.coerce.number().int().positive().default(24 * 3600),
  /** Requests per API key in each rate-limit window. */
  RATE_LIMIT_PER_KEY: z.coerce.number().int().positive().default(1200),
  /** Match queries and linkage jobs per API key in each window: their own, tighter budget. */
  RATE_LIMIT_MATCH_PER_KEY: z.coerce.number().int().positive().default(300),
  /** Failed authentications per client address in each window; past it the address is refused until the window ends. */
  RATE_LIMIT_AUTH_FAILURES: z.coerce.number().int().positive().default(30),
  RATE_LIMIT_WINDOW_SECONDS: z.coerce.number().int().positive().max(3600).default(60),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
});

export type Config = z.infer<typeof configSchema>;

export class ConfigError extends Error {}

/** A value as an error may show it: secrets never, a URL without its password. */
function shownValue(name: string, value: string | undefined): string {
  if (value === undefined) return 'unset';
  if (name === 'EXCHANGE_SECRET') return '[hidden]';
  if (name === 'DATABASE_URL') {
    try {
      const url = new URL(value);
      if (url.password) url.password = '***';
      return JSON.stringify(url.toString());
    } catch {
      return '[not a URL]';
    }
  }
  return JSON.stringify(value);
}

/** Parses the environment; a wrong value throws one readable line naming the variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const present = Object.fromEntries(
    Object.keys(configSchema.shape).flatMap((key) => {
      const value = env[key];
      return value === undefined || value === '' ? [] : [[key, value]];
    }),
  );
  const parsed = configSchema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0]);
      return `${name}=${shownValue(name, present[name])}: ${issue.message}`;
    });
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  }
  return parsed.data;
}
