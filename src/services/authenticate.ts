import { AppError } from '../errors.js';
import { selectLiveApiKeyByHash, touchApiKey } from '../store/api-keys.js';
import type { Database } from '../store/database.js';
import { hashApiKey } from './create-api-key.js';
import type { Actor } from './context.js';

const keyShape = /^cx_[A-Za-z0-9_-]{43}$/;

/** Turns a bearer key into the actor it stands for; any failure reads the same, so keys cannot be probed. */
export async function authenticate({ db, key }: { db: Database; key: string | undefined }): Promise<Extract<Actor, { type: 'api_key' }>> {
  if (!key) throw new AppError('unauthenticated', 'Send your API key as "Authorization: Bearer <key>".');
  // Made only when thrown: an error's stack costs every request that builds one.
  const invalid = () => new AppError('unauthenticated', 'The API key is not valid: it is unknown, mistyped or revoked.');
  if (!keyShape.test(key)) throw invalid();
  const apiKey = await selectLiveApiKeyByHash(db, hashApiKey(key));
  if (!apiKey) throw invalid();
  // Use is recorded at most once a minute: skip the write when the key was seen recently.
  if (!apiKey.lastUsedAt || Date.now() - apiKey.lastUsedAt.getTime() > 60_000) await touchApiKey(db, apiKey.id);
  return { type: 'api_key', keyId: apiKey.id, role: apiKey.role, partnerId: apiKey.partnerId };
}
