import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { apiDocument } from '../../api/app.js';
import { cliConfig } from '../runtime.js';

export function registerOpenApi(program: Command): void {
  program
    .command('openapi')
    .description('print the OpenAPI 3.1 document of the HTTP API (what GET /openapi.json answers), with no exchange running')
    .option('--out <file>', 'write it to this file instead')
    .action((options: { out?: string }) => {
      const document = `${JSON.stringify(apiDocument(cliConfig()), null, 2)}\n`;
      if (options.out) {
        mkdirSync(dirname(options.out), { recursive: true });
        writeFileSync(options.out, document);
      }
      else process.stdout.write(document);
    });
}
