import { randomBytes } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Option, type Command } from 'commander';
import { createInterface } from 'node:readline';
import { integrateAll, verifyReceipt } from '../../audit/log.js';
import { followLog, httpTiles, LogUnreachable, verifyEntryLines, type FollowedLog } from '../../audit/mirror.js';
import { parseHash, verifyConsistency, verifyInclusion } from '../../audit/merkle.js';
import { ed25519PrivateKey, parseVerifierKey, type Verifier } from '../../audit/note.js';
import { createWitness } from '../../audit/witness.js';
import { verifyLog } from '../../audit/verify.js';
import { CliError, withOperator } from '../runtime.js';

/** The witness's 32-byte Ed25519 seed, kept as hex; made on first use. */
function witnessSeed(file: string): Uint8Array {
  if (!existsSync(file)) writeFileSync(file, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  const seed = Buffer.from(readFileSync(file, 'utf8').trim(), 'hex');
  if (seed.length !== 32) throw new CliError(`${file} does not hold a 32-byte hex Ed25519 seed`);
  return new Uint8Array(seed);
}


const MAX_SIZE = 2n ** 63n - 1n;

function verifierKey(vkey: string, flag: string): Verifier {
  try {
    return parseVerifierKey(vkey);
  } catch (error) {
    throw new CliError(`${flag}: ${(error as Error).message}`);
  }
}

/** --witness and --quorum, which every checking command takes. */
const witnessOption = () => new Option('--witness <vkey...>', 'witness verifier keys whose cosignatures of the checkpoint count towards the quorum');
const quorumOption = () => new Option('--quorum <n>', 'how many of those witnesses must have cosigned (default: all)');

const witnessKeys = (vkeys: string[] | undefined) => (vkeys ?? []).map((vkey) => verifierKey(vkey, '--witness'));

/** Refuses when fewer than `quorum` (default: all) of `witnesses` cosigned. */
function requireQuorum(cosignedBy: string[], witnesses: Verifier[], quorumOption: string | undefined): void {
  const quorum = quorumOption === undefined ? witnesses.length : Number(quorumOption);
  if (!Number.isInteger(quorum) || quorum < 0 || quorum > witnesses.length) throw new CliError(`--quorum must be a whole number from 0 to ${witnesses.length}`);
  const count = witnesses.filter((w) => cosignedBy.includes(w.name)).length;
  if (count < quorum) {
    const missing = witnesses.filter((w) => !cosignedBy.includes(w.name)).map((w) => w.name);
    throw new CliError(`the checkpoint has ${count} of the ${quorum} witness cosignatures required (missing: ${missing.join(', ')})`);
  }
}

const cosigned = (names: string[]) => (names.length ? `, cosigned by ${names.join(', ')}` : '');

/** A problem as one line: where (index, event), then what. */
const describeProblem = (p: { index?: string; eventId?: number; problem: string }) =>
  `${p.index !== undefined ? `index ${p.index}: ` : ''}${p.eventId !== undefined ? `event ${p.eventId}: ` : ''}${p.problem}`;

function printProblems(problems: { index?: string; eventId?: number; problem: string }[]): void {
  for (const p of problems) process.stdout.write(`${describeProblem(p)}\n`);
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

function openInput(file: string) {
  if (!existsSync(file)) throw new CliError(`cannot read ${file}: ENOENT`);
  return createReadStream(file, { encoding: 'utf8' });
}

/** Any failure of a check from outside (unreadable log, bad signature) as the one line saying it does not verify. */
async function asVerifyFailure<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw new CliError(`the audit log does not verify: ${(error as Error).message}`);
  }
}

function readMonitorState(file: string): FollowedLog | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const state = JSON.parse(readFileSync(file, 'utf8')) as FollowedLog;
    if (typeof state.origin !== 'string' || typeof state.size !== 'string' || typeof state.root !== 'string' || !Array.isArray(state.range?.hashes)) throw new Error('fields missing');
    return state;
  } catch (error) {
    throw new CliError(`${file} is not a monitor state (${(error as Error).message}); move it aside to start over`);
  }
}

/** Written whole, then renamed: a crash leaves the old state or the new, never half of one. */
function writeMonitorState(file: string, state: FollowedLog): void {
  writeFileSync(`${file}.tmp`, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
}

interface ProofOptions {
  vkey?: string;
  witness?: string[];
  quorum?: string;
  inclusion?: boolean;
  consistency?: boolean;
  index?: string;
  size?: string;
  leafHash?: string;
  root?: string;
  from?: string;
  to?: string;
  oldRoot?: string;
  newRoot?: string;
  proof?: string;
}

function sizeFlag(value: string | undefined, flag: string): bigint {
  if (value === undefined) throw new CliError(`${flag} is required`);
  if (!/^(0|[1-9][0-9]*)$/.test(value) || BigInt(value) > MAX_SIZE) throw new CliError(`${flag} is a whole number from 0 to 2^63 − 1`);
  return BigInt(value);
}

function hashFlag(value: string | undefined, flag: string): Uint8Array {
  if (value === undefined) throw new CliError(`${flag} is required`);
  const hash = parseHash(value);
  if (!hash) throw new CliError(`${flag} is a base64 SHA-256 hash (44 characters)`);
  return hash;
}

function proofFlag(value: string | undefined): Uint8Array[] {
  if (value === undefined) throw new CliError("--proof is required (an empty proof: --proof '')");
  return value === '' ? [] : value.split(',').map((h, i) => hashFlag(h.trim(), `--proof hash ${i + 1}`));
}

/** Checks a proof from its parts; returns the line to print, or throws the reason it fails. */
function checkProofParts(options: ProofOptions): string {
  const proof = proofFlag(options.proof);
  if (options.inclusion) {
    const index = sizeFlag(options.index, '--index');
    const size = sizeFlag(options.size, '--size');
    if (index >= size) throw new CliError(`the proof does not hold: index ${index} is outside a tree of ${size}`);
    if (!verifyInclusion(hashFlag(options.leafHash, '--leaf-hash'), index, size, proof, hashFlag(options.root, '--root'))) {
      throw new CliError(`the proof does not hold: the leaf is not at index ${index} of the tree of ${size} with that root`);
    }
    return `ok: the leaf is at index ${index} of the tree of ${size}`;
  }
  const from = sizeFlag(options.from, '--from');
  const to = sizeFlag(options.to, '--to');
  if (from > to) throw new CliError(`the proof does not hold: --from ${from} is larger than --to ${to}`);
  if (!verifyConsistency(from, to, proof, hashFlag(options.oldRoot, '--old-root'), hashFlag(options.newRoot, '--new-root'))) {
    throw new CliError(`the proof does not hold: the tree of ${to} does not extend the tree of ${from} with those roots`);
  }
  return `ok: the tree of ${to} extends the tree of ${from}`;
}

export function registerAudit(program: Command): void {
  const audit = program.command('audit').description("the exchange's transparency log: verify it, its receipts, integrate queued events");
  audit
    .command('verify')
    .description(
      'check the whole log: on its database (operators, the default), from a running exchange through its public tiles (--url), or from an entries export and a checkpoint (--entries, --checkpoint); every leaf is rehashed from its entry',
    )
    .option('--vkey <vkey>', "the log's verifier key (required with --url or --entries; operators default to the exchange's own)")
    .option('--url <url>', 'verify a running exchange through /audit/checkpoint and /audit/tile/…')
    .option('--entries <file>', 'an export of the log entries (GET /v1/audit/entries?treeSize=…)')
    .option('--checkpoint <file>', 'the signed checkpoint the export is checked against (GET /audit/checkpoint)')
    .addOption(witnessOption())
    .addOption(quorumOption())
    .action(async (options: { vkey?: string; url?: string; entries?: string; checkpoint?: string; witness?: string[]; quorum?: string }) => {
      if (options.url !== undefined || options.entries !== undefined || options.checkpoint !== undefined) {
        if (options.url !== undefined && (options.entries !== undefined || options.checkpoint !== undefined)) throw new CliError('give --url, or --entries with --checkpoint, not both');
        if (options.url === undefined && (options.entries === undefined || options.checkpoint === undefined)) throw new CliError('--entries and --checkpoint go together');
        if (!options.vkey) throw new CliError("pass --vkey: the log's verifier key you trust (GET /.well-known/audit-log.vkey once, then keep it)");
        const log = verifierKey(options.vkey, '--vkey');
        const witnesses = witnessKeys(options.witness);
        if (options.url !== undefined) {
          const result = await asVerifyFailure(() => followLog(httpTiles(options.url!), log, undefined, witnesses));
          printProblems(result.problems);
          if (!result.ok) throw new CliError(`the audit log does not verify: ${describeProblem(result.problems[0]!)}`);
          requireQuorum(result.cosignedBy, witnesses, options.quorum);
          process.stdout.write(`ok: ${result.checkpoint!.size} entries rehashed from ${options.url}, the root of its checkpoint${cosigned(result.cosignedBy)}\n`);
          return;
        }
        const note = readText(options.checkpoint!);
        const lines = createInterface({ input: openInput(options.entries!), crlfDelay: Infinity });
        const result = await asVerifyFailure(() => verifyEntryLines(lines, note, log, witnesses));
        if (!result.ok) throw new CliError(`the audit log does not verify: ${result.problems[0]!.problem}`);
        requireQuorum(result.cosignedBy, witnesses, options.quorum);
        const beyond = result.beyondCheckpoint > 0n ? ` (${result.beyondCheckpoint} later entries not covered by it)` : '';
        process.stdout.write(`ok: ${result.checkpoint.size} entries hash to the root of the checkpoint${cosigned(result.cosignedBy)}${beyond}\n`);
        return;
      }
      const report = await withOperator(async (ctx) => {
        const vkey = options.vkey ?? ctx.exchange.auditLog.signer.vkey;
        return verifyLog(ctx.db, [verifierKey(vkey, '--vkey')]);
      });
      printProblems(report.problems);
      if (!report.ok) throw new CliError(`the audit log does not verify: ${report.problems.length} problem(s), the first at ${report.problems[0]!.index ?? 'its checkpoints'}`);
      process.stdout.write(`ok: ${report.size} entries, ${report.checkpoints} signed checkpoints verified\n`);
    });
  audit
    .command('verify-proof')
    .alias('verify-receipt')
    .description(
      'check a proof offline and exit 0 when it holds, 1 with the reason when not: a receipt file (c2sp.org/tlog-proof@v1 from …/receipt, or the JSON of …/proof), or the parts of an inclusion or consistency proof (hashes in base64, proofs comma-separated, an empty proof as --proof \'\')',
    )
    .argument('[file]', 'the receipt, from GET /v1/audit/events/{index}/receipt or …/proof')
    .option('--vkey <vkey>', "the log's verifier key (GET /.well-known/audit-log.vkey): checks the receipt's checkpoint signature")
    .option('--inclusion', 'check an inclusion proof from its parts: --index --size --leaf-hash --root --proof')
    .option('--consistency', 'check a consistency proof from its parts: --from --to --old-root --new-root --proof')
    .option('--index <i>', 'the entry index')
    .option('--size <n>', 'the tree size')
    .option('--leaf-hash <hash>', "the entry's leaf hash, SHA-256(0x00 ‖ entry)")
    .option('--root <hash>', "the tree's root")
    .option('--from <n>', 'the older tree size')
    .option('--to <n>', 'the newer tree size')
    .option('--old-root <hash>', "the older tree's root")
    .option('--new-root <hash>', "the newer tree's root")
    .option('--proof <hashes>', 'the proof hashes, comma-separated')
    .addOption(witnessOption())
    .addOption(quorumOption())
    .action((file: string | undefined, options: ProofOptions) => {
      if (options.inclusion && options.consistency) throw new CliError('give --inclusion or --consistency, not both');
      if (options.inclusion || options.consistency) {
        if (file !== undefined) throw new CliError('give a receipt file or the parts of a proof, not both');
        process.stdout.write(`${checkProofParts(options)}\n`);
        return;
      }
      if (file === undefined) throw new CliError('give a receipt file, or --inclusion or --consistency with the parts of a proof');
      const log = options.vkey === undefined ? undefined : verifierKey(options.vkey, '--vkey');
      const witnesses = witnessKeys(options.witness);
      if (!log && witnesses.length) throw new CliError('witness cosignatures are checked with the log key: pass --vkey too');
      let result;
      try {
        result = verifyReceipt(readText(file), log, witnesses);
      } catch (error) {
        throw new CliError(`the receipt does not verify: ${(error as Error).message}`);
      }
      requireQuorum(result.cosignedBy, witnesses, options.quorum);
      const signed = result.signatureChecked ? `signed by ${[log!.name, ...result.cosignedBy].join(', ')}` : "its checkpoint's signature not checked (pass --vkey)";
      process.stdout.write(`ok: entry ${result.index} of ${result.size}, ${signed}\n${result.entry}\n`);
    });
  audit
    .command('monitor')
    .description(
      "follow a running exchange's log through its public tiles: from the last checkpoint saved in --state, rehash every new entry and require the new checkpoint to extend it; exits 1 at the first inconsistency (a rollback, a fork, rewritten history)",
    )
    .requiredOption('--url <url>', 'the exchange')
    .requiredOption('--vkey <vkey>', "the log's verifier key you trust (GET /.well-known/audit-log.vkey)")
    .option('--state <file>', 'where the last verified checkpoint and its compact range are kept', 'audit-monitor.json')
    .option('--interval <seconds>', 'how often to look for a new checkpoint', '10')
    .option('--once', 'check once and exit')
    .addOption(witnessOption())
    .addOption(quorumOption())
    .action(async (options: { url: string; vkey: string; state: string; interval: string; once?: boolean; witness?: string[]; quorum?: string }) => {
      const log = verifierKey(options.vkey, '--vkey');
      const witnesses = witnessKeys(options.witness);
      const interval = Number(options.interval);
      if (!Number.isFinite(interval) || interval < 0.05 || interval > 86_400) throw new CliError('--interval is a number of seconds from 0.05 to 86400');
      let state = readMonitorState(options.state);
      const source = httpTiles(options.url);
      let stopping = false;
      let wake: () => void = () => {};
      const stop = () => ((stopping = true), wake());
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      try {
        while (!stopping) {
          let result;
          try {
            result = await followLog(source, log, state, witnesses);
          } catch (error) {
            if (!(error instanceof LogUnreachable) || options.once) throw new CliError(`the audit log cannot be monitored: ${(error as Error).message}`);
            process.stderr.write(`cx: warning: ${(error as Error).message}; trying again in ${interval} s\n`);
            result = undefined;
          }
          if (result) {
            if (!result.ok) throw new CliError(`the audit log is inconsistent: ${describeProblem(result.problems[0]!)}`);
            requireQuorum(result.cosignedBy, witnesses, options.quorum);
            if (!state || result.state!.size !== state.size || options.once) process.stdout.write(`ok: ${result.checkpoint!.origin} at ${result.checkpoint!.size} entries (${result.read} new, rehashed)${cosigned(result.cosignedBy)}\n`);
            state = result.state!;
            writeMonitorState(options.state, state);
          }
          if (options.once) break;
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, interval * 1000);
            wake = () => (clearTimeout(timer), resolve());
          });
        }
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
    });
  audit
    .command('witness')
    .description("run a witness (c2sp.org/tlog-witness) with your own Ed25519 key: it cosigns the exchange's checkpoints only when they extend the last one it saw")
    .requiredOption('--name <name>', 'the witness name in its cosignatures, e.g. witness.acme.example')
    .requiredOption('--log <vkey...>', "the verifier key of each log to follow (the exchange's: GET /.well-known/audit-log.vkey)")
    .option('--key-file <file>', 'the Ed25519 seed (made, mode 0600, when missing)', 'witness.key')
    .option('--state <file>', 'where the last cosigned checkpoint of each log is kept', 'witness-state.json')
    .option('--port <port>', 'port to listen on', '7380')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .action(async (options: { name: string; log: string[]; keyFile: string; state: string; port: string; host: string }) => {
      const witness = createWitness({ name: options.name, privateKey: ed25519PrivateKey(witnessSeed(options.keyFile)), logs: options.log.map((vkey) => ({ vkey })), statePath: options.state });
      const server = createServer((request, response) => {
        if (request.method !== 'POST' || request.url !== '/add-checkpoint') {
          response.writeHead(404, { 'content-type': 'text/plain' }).end('POST /add-checkpoint\n');
          return;
        }
        let body = '';
        request.setEncoding('utf8');
        request.on('data', (chunk: string) => {
          body += chunk;
          if (body.length > 64 * 1024) request.destroy();
        });
        request.on('end', () => {
          const answer = witness.addCheckpoint(body);
          response.writeHead(answer.status, { 'content-type': answer.contentType }).end(answer.body);
        });
      });
      await new Promise<void>((resolve) => server.listen(Number(options.port), options.host, resolve));
      const { port } = server.address() as AddressInfo;
      process.stdout.write(`witness ${witness.name} listening on http://${options.host}:${port}\nvkey ${witness.vkey}\n`);
      process.once('SIGTERM', () => server.close());
      process.once('SIGINT', () => server.close());
    });
  audit
    .command('integrate')
    .description('integrate every queued event now (operators; the service does it every AUDIT_INTEGRATE_INTERVAL_MS)')
    .action(async () => {
      const size = await withOperator((ctx) => integrateAll(ctx.db, ctx.exchange.auditLog));
      process.stdout.write(`the log holds ${size} entries\n`);
    });
}
