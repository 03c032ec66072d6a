/**
 * Witnessing (c2sp.org/tlog-witness): a partner runs a witness with its own Ed25519 key; it keeps
 * the last checkpoint it cosigned for each log it follows, cosigns a new one only when a
 * consistency proof shows it extends that one, and refuses a fork. The exchange is the client:
 * after each checkpoint it asks its witnesses, and keeps the cosignatures beside the checkpoint.
 * With witnesses, the operator cannot rewrite history without every witnessing partner noticing.
 */
import { renameSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import { verifyConsistency } from './merkle.js';
import { checkpointText, cosigner, openNote, parseCheckpoint, parseVerifierKey, type Verifier } from './note.js';

export interface WitnessAnswer {
  status: number;
  contentType: string;
  body: string;
}

type State = Record<string, { size: string; root: string }>;

const MAX_PROOF_LINES = 63;

/**
 * A witness for the logs it is given (origin and vkey each). State is a JSON file written whole
 * and renamed into place; checking the old size and persisting the new checkpoint happen without
 * yielding, so two requests cannot interleave (tlog-witness's rollback race).
 */
export function createWitness(options: { name: string; privateKey: KeyObject; logs: { vkey: string }[]; statePath: string; now?: () => bigint }) {
  const signer = cosigner(options.name, options.privateKey);
  const logs = new Map<string, Verifier>(options.logs.map(({ vkey }) => [parseVerifierKey(vkey).name, parseVerifierKey(vkey)]));
  const now = options.now ?? (() => BigInt(Math.floor(Date.now() / 1000)));
  const read = (): State => (existsSync(options.statePath) ? (JSON.parse(readFileSync(options.statePath, 'utf8')) as State) : {});
  const write = (state: State) => {
    writeFileSync(`${options.statePath}.tmp`, JSON.stringify(state, null, 2), { mode: 0o600 });
    renameSync(`${options.statePath}.tmp`, options.statePath);
  };
  const text = (status: number, body: string, contentType = 'text/plain; charset=utf-8'): WitnessAnswer => ({ status, contentType, body });

  function addCheckpoint(body: string): WitnessAnswer {
    const split = body.indexOf('\n\n');
    if (split < 0) return text(400, 'the body is an old size line, proof lines, a blank line and a checkpoint\n');
    const lines = body.slice(0, split).split('\n');
    const old = /^old (0|[1-9][0-9]*)$/.exec(lines[0] ?? '');
    if (!old) return text(400, 'the first line is "old <size>"\n');
    if (lines.length - 1 > MAX_PROOF_LINES) return text(400, `at most ${MAX_PROOF_LINES} proof lines\n`);
    const proof = lines.slice(1).map((line) => new Uint8Array(Buffer.from(line, 'base64')));
    if (proof.some((hash) => hash.length !== 32)) return text(400, 'a proof line is not a base64 SHA-256 hash\n');
    const note = body.slice(split + 2);
    let checkpoint;
    try {
      const origin = note.slice(0, note.indexOf('\n'));
      const verifier = logs.get(origin);
      if (!verifier) return text(404, 'this witness does not follow that log\n');
      try {
        checkpoint = parseCheckpoint(openNote(note, [verifier]).text);
      } catch {
        return text(403, 'the checkpoint is not signed by the log\n');
      }
    } catch {
      return text(400, 'the checkpoint cannot be read\n');
    }
    const oldSize = BigInt(old[1]!);
    if (oldSize > checkpoint.size) return text(400, 'the old size is larger than the checkpoint\n');
    const state = read();
    const known = state[checkpoint.origin];
    const knownSize = known ? BigInt(known.size) : 0n;
    if (oldSize !== knownSize) return text(409, `${knownSize}\n`, 'text/x.tlog.size');
    if (known && knownSize === checkpoint.size) {
      if (known.root !== Buffer.from(checkpoint.root).toString('base64')) return text(409, `${knownSize}\n`, 'text/x.tlog.size');
    } else if (known && knownSize > 0n) {
      if (!verifyConsistency(knownSize, checkpoint.size, proof, new Uint8Array(Buffer.from(known.root, 'base64')), checkpoint.root)) {
        return text(422, 'the consistency proof does not verify: this checkpoint does not extend the one cosigned before\n');
      }
    } else if (proof.length) {
      return text(422, 'the proof must be empty from size 0\n');
    }
    state[checkpoint.origin] = { size: String(checkpoint.size), root: Buffer.from(checkpoint.root).toString('base64') };
    write(state);
    return text(200, signer.cosign(checkpointText(checkpoint), now()));
  }

  return { name: options.name, vkey: signer.vkey, addCheckpoint };
}

export interface WitnessPeer {
  url: string;
  verifier: Verifier;
  /** The size this witness last cosigned, as far as the exchange knows (0: ask it). */
  size: bigint;
}

/** `url|vkey` pairs separated by commas (AUDIT_WITNESSES). */
export function parseWitnessList(list: string): WitnessPeer[] {
  return list
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean)
    .map((item) => {
      const [url, vkey] = item.split('|');
      if (!url || !vkey) throw new Error('AUDIT_WITNESSES lists url|vkey pairs, separated by commas');
      return { url: url.replace(/\/+$/, ''), verifier: parseVerifierKey(vkey), size: 0n };
    });
}

/**
 * Asks one witness to cosign `note` (size `size`): sends the consistency proof from the size it
 * last cosigned; a 409 tells that size, and the request is made once more. Returns the witness's
 * cosignature lines, verified, or throws with the witness's reason.
 */
export async function requestCosignature(
  peer: WitnessPeer,
  checkpoint: { size: bigint; note: string },
  prove: (from: bigint, to: bigint) => Promise<Uint8Array[]>,
  timeoutMs = 1000,
): Promise<string[]> {
  for (let attempt = 0; attempt < 2; attempt += 1) {
    const proof = peer.size > 0n && peer.size < checkpoint.size ? await prove(peer.size, checkpoint.size) : [];
    const body = `old ${peer.size}\n${proof.map((h) => `${Buffer.from(h).toString('base64')}\n`).join('')}\n${checkpoint.note}`;
    const response = await fetch(`${peer.url}/add-checkpoint`, { method: 'POST', body, signal: AbortSignal.timeout(timeoutMs) });
    const answer = await response.text();
    if (response.status === 409 && response.headers.get('content-type')?.startsWith('text/x.tlog.size') && attempt === 0) {
      const size = BigInt(answer.trim());
      if (size > checkpoint.size) throw new Error(`the witness has cosigned a larger tree (${size}) than this checkpoint: a fork, or a rollback`);
      peer.size = size;
      continue;
    }
    if (response.status !== 200) throw new Error(`the witness refused (${response.status}): ${answer.trim().slice(0, 200)}`);
    const lines = answer.split('\n').filter(Boolean).map((line) => `${line}\n`);
    // Only signatures of this witness's key, over this checkpoint, are kept.
    openNote(`${checkpoint.note}${lines.join('')}`, [peer.verifier]);
    peer.size = checkpoint.size;
    return lines.filter((line) => line.startsWith(`\u2014 ${peer.verifier.name} `));
  }
  throw new Error('the witness kept answering with another size');
}
