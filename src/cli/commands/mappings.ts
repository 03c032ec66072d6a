import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { loadMapping, mappingsDir } from '../../mapping/load.js';
import { decodeHead } from '../../mapping/readers.js';
import { mappingNameFor, suggestFromText, SuggestError } from '../../mapping/suggest.js';
import { CliError, jsonOption, printTable } from '../output.js';

export function registerMappings(program: Command): void {
  const mappings = program.command('mappings').description('the shipped mapping adapters, and checking your own');
  mappings
    .command('list')
    .description('list the shipped mappings')
    .addOption(jsonOption())
    .action((options: { json?: boolean }) => {
      const rows = readdirSync(mappingsDir)
        .filter((f) => f.endsWith('.json'))
        .sort()
        .map((file) => loadMapping(file))
        .map((mapping) => ({ name: mapping.name, format: mapping.source.format, description: mapping.description ?? null }));
      printTable(rows, ['name', 'format', 'description'], options);
    });
  mappings
    .command('suggest')
    .description('draft a mapping from a file\'s header and first rows (review it, then upload with it)')
    .argument('<file>', 'a CSV export')
    .option('-o, --out <file>', 'where to write the mapping (default: standard output)')
    .option('--rows <n>', 'rows to sample', (v) => Number(v), 200)
    .action((file: string, options: { out?: string; rows: number }) => {
      if (!existsSync(file)) throw new CliError(`no such file: ${file}`);
      const head = readFileSync(file).subarray(0, 4 * 1024 * 1024);
      const text = decodeHead(head);
      let suggestion;
      try {
        suggestion = suggestFromText(mappingNameFor(file), text, options.rows);
      } catch (error) {
        if (error instanceof SuggestError) throw new CliError(error.message);
        throw error;
      }
      const json = `${JSON.stringify(suggestion.mapping, null, 2)}\n`;
      if (options.out) writeFileSync(options.out, json);
      else process.stdout.write(json);
      for (const { column, target, confidence } of suggestion.columns) {
        process.stderr.write(`${column.padEnd(28)} ${target ? `${target} (${confidence})` : '- not matched'}\n`);
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
