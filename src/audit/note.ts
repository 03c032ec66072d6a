/**
 * C2SP signed notes (c2sp.org/signed-note), checkpoints (c2sp.org/tlog-checkpoint) and Ed25519
 * cosignatures (c2sp.org/tlog-cosignature), on node:crypto alone, so that any tool of those specs
 * (Go's sumdb/note, transparency-dev/formats) reads what the exchange signs, and this code reads
 * theirs.
 */
import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { parseHash } from './merkle.js';

const ED25519 = 0x01;
const COSIGNATURE_V1 = 0x04;
const EM_DASH = '\u2014';
/** A note with more signatures than this is refused (the spec asks verifiers to accept at least 16). */
const MAX_SIGNATURES = 64;

export interface Signer {
  name: string;
  keyId: Uint8Array;
  /** The note's signature bytes over `message`. */
  sign(message: Uint8Array): Uint8Array;
}

export interface Verifier {
  name: string;
  keyId: Uint8Array;
  type: number;
  verify(message: Uint8Array, signature: Uint8Array): boolean;
}

const enc = new TextEncoder();

function keyIdOf(name: string, type: number, publicKey: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(name).update(Uint8Array.of(0x0a, type)).update(publicKey).digest().subarray(0, 4));
}

function validName(name: string): boolean {
  return name.length > 0 && !/[\s+]/u.test(name);
}

const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');

/** An Ed25519 private key from its 32-byte seed, or from a JWK. */
export function ed25519PrivateKey(key: Uint8Array | Record<string, unknown>): KeyObject {
  if (key instanceof Uint8Array) return createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, key]), format: 'der', type: 'pkcs8' });
  return createPrivateKey({ key: key as import('node:crypto').JsonWebKey, format: 'jwk' });
}

export function ed25519PublicBytes(key: KeyObject): Uint8Array {
  const jwk = createPublicKey(key).export({ format: 'jwk' });
  return new Uint8Array(Buffer.from(jwk.x!, 'base64url'));
}

function publicKeyObject(raw: Uint8Array): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(raw).toString('base64url') }, format: 'jwk' });
}

/** A named key of a signature type: its key id and verifier key (vkey). */
function namedKey(name: string, type: number, privateKey: KeyObject) {
  if (!validName(name)) throw new Error(`a key name has no spaces or plus signs: ${JSON.stringify(name)}`);
  const publicKey = ed25519PublicBytes(privateKey);
  const keyId = keyIdOf(name, type, publicKey);
  return { name, keyId, vkey: `${name}+${Buffer.from(keyId).toString('hex')}+${Buffer.from([type, ...publicKey]).toString('base64')}` };
}

/** The note signer of a log (type 0x01, Ed25519). */
export function noteSigner(name: string, privateKey: KeyObject): Signer & { vkey: string } {
  return { ...namedKey(name, ED25519, privateKey), sign: (message) => new Uint8Array(sign(null, message, privateKey)) };
}

/** A verifier from a vkey (`name+hex(keyID)+base64(type||pubkey)`): Ed25519 notes or cosignatures. */
export function parseVerifierKey(vkey: string): Verifier {
  // The key's base64 may hold plus signs itself: only the first two separate.
  const match = /^([^+\s]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/]+=*)$/.exec(vkey.trim());
  if (!match) throw new Error('not a verifier key (name+keyid+key)');
  const [, name, hexId, encoded] = match as unknown as [string, string, string, string];
  const bytes = Buffer.from(encoded, 'base64');
  const type = bytes[0]!;
  const publicKey = new Uint8Array(bytes.subarray(1));
  if ((type !== ED25519 && type !== COSIGNATURE_V1) || publicKey.length !== 32) throw new Error('the verifier key is not an Ed25519 key');
  const keyId = keyIdOf(name, type, publicKey);
  if (Buffer.from(keyId).toString('hex') !== hexId) throw new Error('the verifier key id does not match its key');
  const key = publicKeyObject(publicKey);
  return {
    name,
    keyId,
    type,
    verify: (message, signature) => {
      if (type === ED25519) return signature.length === 64 && verify(null, message, key, signature);
      if (signature.length !== 72) return false;
      const time = Buffer.from(signature.subarray(0, 8)).readBigUInt64BE();
      return verify(null, cosignedMessage(Buffer.from(message).toString('utf8'), time), key, signature.subarray(8));
    },
  };
}

/** Signs `text` (ending in a newline) with each signer: the signed note. */
export function signNote(text: string, ...signers: Signer[]): string {
  if (!text.endsWith('\n')) throw new Error('a note text ends with a newline');
  const message = enc.encode(text);
  const lines = signers.map((s) => `${EM_DASH} ${s.name} ${Buffer.concat([s.keyId, s.sign(message)]).toString('base64')}\n`);
  return `${text}\n${lines.join('')}`;
}

export interface NoteSignature {
  name: string;
  keyId: Uint8Array;
  signature: Uint8Array;
  line: string;
}

/** Splits a signed note into its text and signature lines; throws on a malformed note. */
export function parseNote(note: string): { text: string; signatures: NoteSignature[] } {
  const split = note.lastIndexOf('\n\n');
  if (split < 0 || !note.endsWith('\n')) throw new Error('not a signed note: no blank line before the signatures');
  const text = note.slice(0, split + 1);
  const lines = note.slice(split + 2, -1).split('\n');
  if (lines.length > MAX_SIGNATURES) throw new Error(`a note with more than ${MAX_SIGNATURES} signatures is refused`);
  const signatures = lines.map((line) => {
    const match = /^\u2014 (\S+) ([A-Za-z0-9+/]+=*)$/.exec(line);
    if (!match) throw new Error('a signature line is malformed');
    const bytes = Buffer.from(match[2]!, 'base64');
    if (bytes.length < 5) throw new Error('a signature is too short');
    return { name: match[1]!, keyId: new Uint8Array(bytes.subarray(0, 4)), signature: new Uint8Array(bytes.subarray(4)), line: `${line}\n` };
  });
  return { text, signatures };
}

const sameId = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * Verifies a note against known verifiers, by the spec's rules: unknown keys are ignored, a known
 * key whose signature fails rejects the note, and at least one known key must verify. Returns the
 * text and the names that verified.
 */
export function openNote(note: string, verifiers: Verifier[]): { text: string; verifiedBy: string[] } {
  const { text, signatures } = parseNote(note);
  const message = enc.encode(text);
  const verifiedBy: string[] = [];
  for (const signature of signatures) {
    const verifier = verifiers.find((v) => v.name === signature.name && sameId(v.keyId, signature.keyId));
    if (!verifier) continue;
    if (!verifier.verify(message, signature.signature)) throw new Error(`the signature of ${signature.name} does not verify`);
    verifiedBy.push(signature.name);
  }
  if (!verifiedBy.length) throw new Error('no known key signed this note');
  return { text, verifiedBy };
}

export interface Checkpoint {
  origin: string;
  size: bigint;
  root: Uint8Array;
}

export function checkpointText({ origin, size, root }: Checkpoint): string {
  return `${origin}\n${size}\n${Buffer.from(root).toString('base64')}\n`;
}

export function parseCheckpoint(text: string): Checkpoint {
  const lines = text.split('\n');
  if (lines.length < 4 || lines[lines.length - 1] !== '') throw new Error('a checkpoint has an origin, a size and a root');
  const [origin, size, root] = lines as [string, string, string];
  if (!origin || !/^(0|[1-9][0-9]*)$/.test(size)) throw new Error('the checkpoint size is not a decimal number');
  const hash = parseHash(root);
  if (!hash) throw new Error('the checkpoint root is not a base64 SHA-256 hash');
  return { origin, size: BigInt(size), root: hash };
}

function cosignedMessage(checkpoint: string, time: bigint): Uint8Array {
  return enc.encode(`cosignature/v1\ntime ${time}\n${checkpoint}`);
}

/** A witness's cosigner (type 0x04): signs a checkpoint body at a time. */
export function cosigner(name: string, privateKey: KeyObject) {
  const { keyId, vkey } = namedKey(name, COSIGNATURE_V1, privateKey);
  return {
    name,
    keyId,
    vkey,
    /** The cosignature line for a checkpoint body. */
    cosign(checkpoint: string, time = BigInt(Math.floor(Date.now() / 1000))): string {
      const stamp = Buffer.alloc(8);
      stamp.writeBigUInt64BE(time);
      const signature = sign(null, cosignedMessage(checkpoint, time), privateKey);
      return `${EM_DASH} ${name} ${Buffer.concat([keyId, stamp, signature]).toString('base64')}\n`;
    },
  };
}

/**
 * A checkpoint signed by its log: the log's key must have signed it and its origin must be the
 * log's name (a witness's cosignature alone proves nothing of the log). Returns the checkpoint
 * and the witnesses of `witnesses` that cosigned it.
 */
export function openCheckpoint(note: string, log: Verifier, witnesses: Verifier[] = []): { checkpoint: Checkpoint; cosignedBy: string[] } {
  const { text, verifiedBy } = openNote(note, [log, ...witnesses]);
  if (!verifiedBy.includes(log.name)) throw new Error(`the checkpoint is not signed by the log ${log.name}`);
  const checkpoint = parseCheckpoint(text);
  if (checkpoint.origin !== log.name) throw new Error(`the checkpoint is of another log (${checkpoint.origin}), not ${log.name}`);
  return { checkpoint, cosignedBy: witnesses.filter((w) => verifiedBy.includes(w.name)).map((w) => w.name) };
}
