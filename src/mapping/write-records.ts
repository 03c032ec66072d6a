/**
 * Writes mapped records as NDJSON with constant memory. Records go to a temporary file first;
 * rows that repeat a source id are kept aside (there are few) and merged into their first record
 * in a second pass, so the output has one record per source id, in first-seen order.
 */
import { createReadStream, createWriteStream, renameSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { Writable } from 'node:stream';
import type { CustomerRecord } from '../standard/customer.js';
import { mergeRecords } from './merge.js';

export class RecordWriter {
  private readonly file: Writable;
  private readonly later = new Map<string, CustomerRecord[]>();

  constructor(private readonly tempPath: string) {
    this.file = createWriteStream(tempPath);
  }

  async write(record: CustomerRecord): Promise<void> {
    if (!this.file.write(`${JSON.stringify(record)}\n`)) await once(this.file, 'drain');
  }

  duplicate(record: CustomerRecord): void {
    const list = this.later.get(record.source.recordId) ?? [];
    list.push(record);
    this.later.set(record.source.recordId, list);
  }

  /** Finishes the output into `destination` (a path, or a stream such as stdout). */
  async finish(destination: string | Writable): Promise<void> {
    this.file.end();
    await once(this.file, 'finish');
    if (this.later.size === 0 && typeof destination === 'string') {
      renameSync(this.tempPath, destination);
      return;
    }
    const out = typeof destination === 'string' ? createWriteStream(destination) : destination;
    const lines = createInterface({ input: createReadStream(this.tempPath), crlfDelay: Infinity });
    for await (const line of lines) {
      let text = line;
      if (this.later.size > 0) {
        const record = JSON.parse(line) as CustomerRecord;
        const updates = this.later.get(record.source.recordId);
        if (updates) text = JSON.stringify(updates.reduce(mergeRecords, record));
      }
      if (!out.write(`${text}\n`)) await once(out, 'drain');
    }
    if (typeof destination === 'string') {
      out.end();
      await once(out, 'finish');
    }
    rmSync(this.tempPath, { force: true });
  }

  discard(): void {
    this.file.on('error', () => {}); // writes still queued fail once destroyed; the file goes anyway
    this.file.destroy();
    rmSync(this.tempPath, { force: true });
  }
}
