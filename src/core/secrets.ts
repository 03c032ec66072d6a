/**
 * The exchange's master secret: 32 random bytes from EXCHANGE_SECRET (base64url) or, when unset, a
 * file under DATA_DIR made on first start (mode 0600). Separate keys are derived from it with HKDF:
 * one encrypts the exchange's private signing keys at rest, one makes keyed pseudonyms of records
 * (erasure tombstones, probe counts), so that a leaked table cannot be reversed by guessing ids.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Config } from '../config.js';

export class SecretError extends Error {}

const SECRET_BYTES = 32;

export interface ExchangeSecrets {
  /** A keyed pseudonym of some parts (HMAC-SHA256, base64url): the same parts give the same pseudonym. */
  pseudonym(...parts: string[]): string;
  /** Seals a JSON value with AES-256-GCM under the key-encryption key. */
  seal(value: unknown): SealedValue;
  open(sealed: SealedValue): unknown;
}

export type SealedValue = {
  sealed: 'A256GCM';
  iv: string;
  data: string;
  tag: string;
};

export function isSealed(value: unknown): value is SealedValue {
  return typeof value === 'object' && value !== null && (value as { sealed?: unknown }).sealed === 'A256GCM';
}

function readOrCreateSecretFile(file: string): Buffer {
  try {
    return Buffer.from(readFileSync(file, 'utf8').trim(), 'base64url');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new SecretError(`cannot read the exchange secret ${file}: ${(error as Error).message}`);
  }
  mkdirSync(dirname(file), { recursive: true });
  try {
    // 'wx': two processes starting together make one file; the loser reads the winner's.
    writeFileSync(file, `${randomBytes(SECRET_BYTES).toString('base64url')}\n`, { flag: 'wx', mode: 0o600 });
    chmodSync(file, 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw new SecretError(`cannot write the exchange secret ${file}: ${(error as Error).message}`);
  }
  return Buffer.from(readFileSync(file, 'utf8').trim(), 'base64url');
}

function masterSecret(config: Pick<Config, 'EXCHANGE_SECRET' | 'DATA_DIR'>): Buffer {
  const secret = config.EXCHANGE_SECRET ? Buffer.from(config.EXCHANGE_SECRET, 'base64url') : readOrCreateSecretFile(join(config.DATA_DIR, 'exchange.secret'));
  if (secret.length < SECRET_BYTES) throw new SecretError(`the exchange secret must hold at least ${SECRET_BYTES} bytes (base64url)`);
  return secret;
}

const derive = (secret: Buffer, purpose: string) => Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), `customer-exchange ${purpose}`, 32));

export function exchangeSecrets(secret: Buffer): ExchangeSecrets {
  const pseudonymKey = derive(secret, 'record pseudonyms');
  const kek = derive(secret, 'key encryption');
  return {
    pseudonym: (...parts) => createHmac('sha256', pseudonymKey).update(parts.join('\u0000')).digest('base64url'),
    seal(value) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', kek, iv);
      const data = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
      return { sealed: 'A256GCM', iv: iv.toString('base64url'), data: data.toString('base64url'), tag: cipher.getAuthTag().toString('base64url') };
    },
    open(sealed) {
      const decipher = createDecipheriv('aes-256-gcm', kek, Buffer.from(sealed.iv, 'base64url'));
      decipher.setAuthTag(Buffer.from(sealed.tag, 'base64url'));
      try {
        return JSON.parse(Buffer.concat([decipher.update(Buffer.from(sealed.data, 'base64url')), decipher.final()]).toString('utf8'));
      } catch {
        throw new SecretError('a sealed key does not open with this exchange secret: was EXCHANGE_SECRET or DATA_DIR/exchange.secret changed?');
      }
    },
  };
}

/**
 * How audit events name a record: a keyed pseudonym of partner, dataset and source id, the same
 * in every event about it, that nobody without the exchange secret can link back to the id.
 */
export function recordPseudonym(secrets: ExchangeSecrets, partnerId: string, datasetId: string, sourceId: string): string {
  return `rec_${secrets.pseudonym('record', partnerId, datasetId, sourceId).slice(0, 32)}`;
}

const loaded = new WeakMap<object, ExchangeSecrets>();

/** The secrets of the configured exchange, read once per configuration. */
export function secretsFor(config: Config): ExchangeSecrets {
  let secrets = loaded.get(config);
  if (!secrets) {
    secrets = exchangeSecrets(masterSecret(config));
    loaded.set(config, secrets);
  }
  return secrets;
}
