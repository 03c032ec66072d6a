import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Command } from 'commander';
import { integrateAll, verifyReceipt } from '../../audit/log.js';
import { ed25519PrivateKey, parseVerifierKey } from '../../audit/note.js';
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

export function registerAudit(program: Command): void {
  const audit = program.command('audit').description("the exchange's transparency log: verify it, its receipts, integrate queued events");
  audit
    .command('verify')
    .description('fsck of the log on its database (operators): rebuild every entry from its event, the tree, every checkpoint')
    .option('--vkey <vkey>', "the log's verifier key (default: the exchange's own)")
    .action(async (options: { vkey?: string }) => {
      const report = await withOperator(async (ctx) => {
        const vkey = options.vkey ?? ctx.exchange.auditLog.signer.vkey;
        return verifyLog(ctx.db, [parseVerifierKey(vkey)]);
      });
      for (const p of report.problems) process.stdout.write(`${p.index !== undefined ? `index ${p.index}: ` : ''}${p.eventId !== undefined ? `event ${p.eventId}: ` : ''}${p.problem}\n`);
      if (!report.ok) throw new CliError(`the audit log does not verify: ${report.problems.length} problem(s), the first at ${report.problems[0]!.index ?? 'its checkpoints'}`);
      process.stdout.write(`ok: ${report.size} entries, ${report.checkpoints} signed checkpoints verified\n`);
    });
  audit
    .command('verify-receipt')
    .description('verify a receipt (c2sp.org/tlog-proof@v1) offline, with the log verifier key')
    .argument('<file>', 'the receipt, from GET /v1/audit/events/{index}/receipt')
    .requiredOption('--vkey <vkey>', "the log's verifier key (GET /.well-known/audit-log.vkey)")
    .option('--witness <vkey...>', 'witness verifier keys whose cosignatures count towards the quorum')
    .option('--quorum <n>', 'how many of those witnesses must have cosigned (default: all)')
    .action((file: string, options: { vkey: string; witness?: string[]; quorum?: string }) => {
      const witnesses = (options.witness ?? []).map(parseVerifierKey);
      let result;
      try {
        result = verifyReceipt(readFileSync(file, 'utf8'), [parseVerifierKey(options.vkey), ...witnesses]);
      } catch (error) {
        throw new CliError(`the receipt does not verify: ${(error as Error).message}`);
      }
      const quorum = options.quorum === undefined ? witnesses.length : Number(options.quorum);
      if (!Number.isInteger(quorum) || quorum < 0 || quorum > witnesses.length) throw new CliError(`--quorum must be a whole number from 0 to ${witnesses.length}`);
      const cosigned = witnesses.filter((w) => result.verifiedBy.includes(w.name));
      if (cosigned.length < quorum) {
        const missing = witnesses.filter((w) => !cosigned.includes(w)).map((w) => w.name);
        throw new CliError(`the receipt has ${cosigned.length} of the ${quorum} witness cosignatures required (missing: ${missing.join(', ')})`);
      }
      process.stdout.write(`ok: entry ${result.index} of ${result.size}, signed by ${result.verifiedBy.join(', ')}\n${result.entry}\n`);
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
