import { createReadStream, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { loadMapping } from '../../mapping/load.js';
import { mapInput, StrictModeError } from '../../mapping/run.js';
import { RecordWriter } from '../../mapping/write-records.js';
import { progressReporter } from '../progress.js';
import { CliError } from '../runtime.js';

export function registerMap(program: Command): void {
  program
    .command('map')
    .description('map an export to canonical records (NDJSON); exit 0 when every row mapped, 2 when some were rejected, 1 when unusable')
    .argument('<input>', 'the export file, or - for standard input')
    .requiredOption('-m, --mapping <name|path>', 'a shipped mapping (cx mappings list) or a mapping file')
    .option('-o, --out <file>', 'where to write the records (default: standard output)')
    .option('-r, --report <file>', 'where to write the report (JSON)')
    .option('--strict', 'stop at the first error')
    .action(async (inputPath: string, options: { mapping: string; out?: string; report?: string; strict?: boolean }) => {
      const mapping = loadMapping(options.mapping);
      if (inputPath !== '-' && !existsSync(inputPath)) throw new CliError(`no such input file: ${inputPath}`);
      const input = inputPath === '-' ? process.stdin : createReadStream(inputPath);
      const tempDir = options.out ? dirname(resolve(options.out)) : tmpdir();
      const writer = new RecordWriter(join(tempDir, `.cx-map-${randomBytes(4).toString('hex')}.ndjson`));
      const progress = progressReporter('mapped');
      let report;
      try {
        report = await mapInput({
          input,
          mapping,
          strict: options.strict ?? false,
          onRecord: (record) => writer.write(record),
          onDuplicate: (record) => writer.duplicate(record),
          onProgress: (rows) => progress.update(rows),
        });
      } catch (error) {
        writer.discard();
        progress.done();
        if (error instanceof StrictModeError) throw new CliError(`--strict: ${error.message}`, 2);
        throw error;
      }
      progress.done();
      await writer.finish(options.out ?? process.stdout);
      if (options.report) writeFileSync(options.report, `${JSON.stringify(report, null, 2)}\n`);
      const dropped = report.issues.filter((i) => i.severity === 'dropped').length;
      process.stderr.write(
        `mapped ${report.rows} rows with ${mapping.name}: ${report.accepted} accepted, ${report.rejected} rejected, ` +
          `${report.duplicates.sameSourceId} merged by source id, ${report.duplicates.sameIdentity} flagged as the same person; ` +
          `${report.issueCount} issues (${dropped}${report.issueCount > report.issues.length ? '+' : ''} values dropped)${options.report ? ` in ${options.report}` : ''}\n`,
      );
      if (report.rejected > 0) process.exitCode = 2;
    });
}
