import { Readable } from 'node:stream';
import { createReadStream } from 'node:fs';
import { loadMapping, parseMapping, type Mapping } from '../../src/mapping/load.js';
import { mapInput, type MappingReport } from '../../src/mapping/run.js';
import { mergeRecords } from '../../src/mapping/merge.js';
import type { CustomerRecord } from '../../src/standard/customer.js';

export const sharedData = new URL('../../../shared/data/', import.meta.url).pathname;
export const samples = new URL('../../mappings/samples/', import.meta.url).pathname;

/** Maps an input (text, buffer or file path) and returns the merged records and the report. */
export async function mapAll(
  mapping: Mapping | string,
  input: string | Buffer | { file: string },
  options: { strict?: boolean } = {},
): Promise<{ records: CustomerRecord[]; report: MappingReport }> {
  const byId = new Map<string, CustomerRecord>();
  const stream = typeof input === 'object' && 'file' in input ? createReadStream(input.file) : Readable.from([typeof input === 'string' ? Buffer.from(input) : input]);
  const report = await mapInput({
    input: stream,
    mapping: typeof mapping === 'string' ? loadMapping(mapping) : mapping,
    strict: options.strict,
    onRecord: (record) => void byId.set(record.source.recordId, record),
    onDuplicate: (record) => void byId.set(record.source.recordId, mergeRecords(byId.get(record.source.recordId)!, record)),
  });
  return { records: [...byId.values()], report };
}

/** A small mapping for tests: CSV with an id column and the given rules. */
export function testMapping(rules: unknown[], source: Record<string, unknown> = {}): Mapping {
  return parseMapping({ name: 'test', source: { format: 'csv', recordId: 'id', ...source }, rules });
}
