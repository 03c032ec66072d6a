import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { customerDictionaryMarkdown, customerJsonSchema, standardsIndex } from '../../standard/publish.js';
import { mappingJsonSchema } from '../../mapping/load.js';
import { consentReadmeMarkdown } from '../../consent/publish.js';
import { consentClaimsJsonSchema } from '../../consent/token.js';

export const standardsDir = fileURLToPath(new URL('../../../standards/', import.meta.url));

/** The published files and their generated contents. */
export function publishedStandardFiles(): Record<string, string> {
  return {
    'customer/v1/schema.json': `${JSON.stringify(customerJsonSchema(), null, 2)}\n`,
    'customer/v1/README.md': customerDictionaryMarkdown(),
    'mapping/v1/schema.json': `${JSON.stringify(mappingJsonSchema(), null, 2)}\n`,
    'consent/v1/claims.schema.json': `${JSON.stringify(consentClaimsJsonSchema(), null, 2)}\n`,
    'consent/v1/README.md': consentReadmeMarkdown(),
  };
}

export function registerStandards(program: Command): void {
  const standards = program
    .command('standards')
    .description('print the published standards (the field dictionary, or --json for the JSON Schema)')
    .option('--json', 'print the customer record\'s JSON Schema')
    .action((options: { json?: boolean }) => {
      if (options.json) process.stdout.write(`${JSON.stringify(customerJsonSchema(), null, 2)}\n`);
      else {
        process.stdout.write(`standards: ${standardsIndex.map((s) => `${s.name} ${s.version}`).join(', ')}\n\n`);
        process.stdout.write(customerDictionaryMarkdown());
      }
    });
  standards
    .command('generate')
    .description('regenerate standards/ from the zod definitions (after changing the standard)')
    .action(() => {
      for (const [path, content] of Object.entries(publishedStandardFiles())) {
        const file = `${standardsDir}${path}`;
        mkdirSync(file.slice(0, file.lastIndexOf('/')), { recursive: true });
        writeFileSync(file, content);
        process.stdout.write(`wrote standards/${path}\n`);
      }
    });
}
