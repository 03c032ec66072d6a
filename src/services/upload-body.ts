/** An upload's body as it arrives: counted against the limit, and fingerprinted for Idempotency-Key. */
import { createHash } from 'node:crypto';
import { Transform, Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AppError } from '../errors.js';

export class UploadTooLarge extends Error {
  override readonly name = 'UploadTooLarge';
}

/**
 * Counts the bytes of the body and stops it past the limit; fingerprints the request as it goes
 * (what an Idempotency-Key stands for: content type, mapping, strictness and body).
 */
export function byteCounter(limit: number, request: string): Transform & { bytes: number; fingerprint(): string } {
  const hash = createHash('sha256').update(request);
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      counter.bytes += chunk.length;
      hash.update(chunk);
      if (counter.bytes > limit) done(new UploadTooLarge(`over ${limit} bytes`));
      else done(null, chunk);
    },
  }) as Transform & { bytes: number; fingerprint(): string };
  counter.bytes = 0;
  let digest: string | undefined;
  counter.fingerprint = () => (digest ??= hash.digest('hex'));
  return counter;
}

/** Reads the whole body through the counter, only to fingerprint it (a retry under an Idempotency-Key). */
export async function fingerprintOf(counter: ReturnType<typeof byteCounter>, body: Readable, limit: number): Promise<string> {
  try {
    await pipeline(body, counter, new Writable({ write: (_chunk, _enc, done) => done() }));
  } catch (error) {
    if (error instanceof UploadTooLarge) throw new AppError('payload_too_large', `The upload is larger than the limit of ${limit} bytes.`);
    throw new AppError('bad_request', 'The upload body ended before it was complete (truncated). Send it again.');
  }
  return counter.fingerprint();
}
