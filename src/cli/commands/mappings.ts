import { readdirSync } from 'node:fs';
import type { Command } from 'commander';
import { loadMapping, mappingsDir } from '../../mapping/load.js';

export function registerMappings(program: Command): void {
  const mappings = program.command('mappings').description('the shipped mapping adapters, and checking your own');
  mappings
    .command('list')
    .description('list the shipped mappings')
    .action(() => {
      for (const file of readdirSync(mappingsDir).filter((f) => f.endsWith('.json')).sort()) {
        const mapping = loadMapping(file);
        process.stdout.write(`${mapping.name.padEnd(22)} ${mapping.source.format.padEnd(6)} ${mapping.description ?? ''}\n`);
      }
    });
  mappings
    .command('validate')
    .description('check a mapping file without data')
    .argument('<file>', 'the mapping file')
    .action((file: string) => {
      const mapping = loadMapping(file);
      process.stdout.write(`${file}: valid mapping "${mapping.name}" (${mapping.rules.length} rules, ${mapping.source.format})\n`);
    });
}
