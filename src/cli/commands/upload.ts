import { createReadStream, existsSync, statSync } from 'node:fs';
import { Readable, Transform } from 'node:stream';
import type { Command } from 'commander';
import { keyOption, urlOption } from '../http.js';
import { CliError } from '../output.js';

const contentTypes: Record<string, string> = { csv: 'text/csv', ndjson: 'application/x-ndjson', jsonl: 'application/x-ndjson', json: 'application/json' };

/** A one-line progress bar on stderr, redrawn as the file is sent; only on a terminal (scripts read the one result line). */
function progressBar(total: number): Transform {
  let sent = 0;
  let lastDrawn = -1;
  const tty = process.stderr.isTTY;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      sent += chunk.length;
      const percent = total ? Math.floor((sent / total) * 100) : 0;
      if (tty && percent !== lastDrawn) {
        lastDrawn = percent;
        const bar = '#'.repeat(Math.floor(percent / 5)).padEnd(20, '.');
        process.stderr.write(`\ruploading [${bar}] ${percent}% of ${total.toLocaleString('en')} bytes`);
      }
      done(null, chunk);
    },
    flush(done) {
      if (tty) process.stderr.write('\n');
      done();
    },
  });
}

export function registerUpload(program: Command): void {
  program
    .command('upload')
    .description('upload an export into one of your datasets on a running exchange (exit 0 all stored, 2 some rows rejected, 1 refused)')
    .argument('<file>', 'the export (.csv, .ndjson, .json)')
    .requiredOption('-d, --dataset <id>', 'the dataset id')
    .option('-m, --mapping <name>', 'a shipped mapping (default: the dataset\'s)')
    .option('--strict', 'store nothing if any row fails')
    .option('--content-type <type>', 'override the content type guessed from the file name')
    .option('--idempotency-key <key>', 'retrying with the same key never loads twice')
    .addOption(urlOption())
    .addOption(keyOption())
    .action(async (file: string, options: { dataset: string; mapping?: string; strict?: boolean; contentType?: string; idempotencyKey?: string; url: string; key?: string }) => {
      if (!options.key) throw new CliError('no API key: pass --key or set CX_API_KEY');
      if (!existsSync(file)) throw new CliError(`no such file: ${file}`);
      const extension = file.split('.').pop()?.toLowerCase() ?? '';
      const contentType = options.contentType ?? contentTypes[extension];
      if (!contentType) throw new CliError(`cannot tell the format of ${file}: use --content-type text/csv, application/x-ndjson or application/json`);
      const query = new URLSearchParams();
      if (options.mapping) query.set('mapping', options.mapping);
      if (options.strict) query.set('strict', 'true');
      // Reach the exchange before sending anything: a closed port or a wrong URL fails at once, not
      // after the whole file was read into a connection that was never there.
      try {
        await fetch(`${options.url.replace(/\/$/, '')}/healthz`, { signal: AbortSignal.timeout(10_000), redirect: 'error' });
      } catch (error) {
        throw new CliError(`cannot reach the exchange at ${options.url}: ${String((error as Error).cause ?? (error as Error).message)}`);
      }
      const url = `${options.url.replace(/\/$/, '')}/v1/datasets/${encodeURIComponent(options.dataset)}/uploads${query.size ? `?${query}` : ''}`;
      const body = Readable.toWeb(createReadStream(file).pipe(progressBar(statSync(file).size)));
      let response: Response;
      try {
        response = await fetch(url, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${options.key}`,
            'content-type': contentType,
            ...(options.idempotencyKey ? { 'idempotency-key': options.idempotencyKey } : {}),
          },
          body: body as unknown as ReadableStream,
          duplex: 'half',
          // A redirect is refused rather than followed: following one means fetch keeps a copy of the body to send again.
          redirect: 'error',
        } as RequestInit);
      } catch (error) {
        throw new CliError(`cannot reach the exchange at ${options.url}: ${(error as Error).cause ?? (error as Error).message}`);
      }
      const payload = (await response.json().catch(() => ({}))) as Record<string, unknown>;
      if (!response.ok) throw new CliError(`upload refused (${response.status}): ${String(payload.detail ?? payload.title ?? response.statusText)}`);
      process.stdout.write(`${JSON.stringify(payload)}\n`);
      process.stderr.write(
        `upload ${String(payload.id)} ${response.status === 200 ? '(already stored under this idempotency key) ' : ''}${String(payload.status)}: ` +
          `${String(payload.accepted)} accepted, ${String(payload.rejected)} rejected; ${String(payload.inserted)} new, ${String(payload.updated)} updated, ${String(payload.unchanged)} unchanged\n`,
      );
      if (Number(payload.rejected) > 0) process.exitCode = 2;
    });
}
