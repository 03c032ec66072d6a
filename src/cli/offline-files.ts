/**
 * Files for the offline tools (cx link, cx dedupe): mapped in memory into what blocking and the
 * comparisons read, with no database, so that a command starts at once and holds only its input.
 */
import { createReadStream, existsSync } from 'node:fs';
import { blockingRecord, type BlockingRecord } from '../match/block.js';
import { prepare, type Comparable } from '../match/features.js';
import { loadMapping } from '../mapping/load.js';
import { mapInput } from '../mapping/run.js';
import { CliError } from './output.js';

export interface OfflineFile {
  /** Each record as the comparisons read it, by source id (the first row of a source id; later ones are its duplicates). */
  comparables: Map<string, Comparable>;
  /** The same records as blocking reads them. */
  blocking: BlockingRecord[];
  rejected: number;
}

export async function readOfflineFile(file: string, mappingName: string, onRows?: (rows: number) => void): Promise<OfflineFile> {
  if (!existsSync(file)) throw new CliError(`no such file: ${file}`);
  const mapping = loadMapping(mappingName);
  const comparables = new Map<string, Comparable>();
  const blocking: BlockingRecord[] = [];
  const report = await mapInput({
    input: createReadStream(file),
    mapping,
    onRecord: (record) => {
      comparables.set(record.source.recordId, prepare(record));
      blocking.push(blockingRecord(record));
    },
    onProgress: onRows,
  });
  return { comparables, blocking, rejected: report.rejected };
}
