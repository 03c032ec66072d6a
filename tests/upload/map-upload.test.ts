import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { loadMapping } from '../../src/mapping/load.js';
import { InputError } from '../../src/mapping/readers.js';
import { mapUpload, type MapUploadOptions } from '../../src/services/map-upload.js';
import type { PreparedRecord } from '../../src/store/records.js';

const header = 'rec_id, given_name, surname, street_number, address_1, address_2, suburb, postcode, state, date_of_birth, soc_sec_id';
const csv = (prefix: string, rows: number) =>
  `${header}\n${Array.from({ length: rows }, (_, i) => `${prefix}-${i}, kim, smith, 1, main street, , sydney, 2000, nsw, 19800102, 1234567`).join('\n')}\n`;

function options(body: string, batches: PreparedRecord[][]): MapUploadOptions {
  return {
    input: Readable.from([Buffer.from(body)]),
    mapping: loadMapping('febrl'),
    strict: false,
    maxRowBytes: 1024 * 1024,
    batchRows: 500,
    onBatch: async (batch) => void batches.push(batch),
    onDuplicate: () => {},
  };
}

describe('mapping an upload', () => {
  it('uses at most maxWorkers worker threads at once; the others map here, to the same records', async () => {
    const inWorker: PreparedRecord[][] = [];
    const here: PreparedRecord[][] = [];
    const first = mapUpload(options(csv('a', 1200), inWorker), { preferWorker: true, maxWorkers: 1 });
    const second = mapUpload(options(csv('a', 1200), here), { preferWorker: true, maxWorkers: 1 });
    expect([first.inWorker, second.inWorker]).toEqual([true, false]);
    const [workerReport, hereReport] = await Promise.all([first.report, second.report]);
    expect(workerReport).toEqual(hereReport);
    expect(workerReport).toMatchObject({ rows: 1200, accepted: 1200, rejected: 0 });
    expect(inWorker.map((b) => b.length)).toEqual([500, 500, 200]);
    expect(inWorker.flat()).toEqual(here.flat());
    // The worker is free again.
    const third = mapUpload(options(csv('b', 10), []), { preferWorker: true, maxWorkers: 1 });
    expect(third.inWorker).toBe(true);
    await third.report;
  });

  it('brings an input error from the worker as the same kind of error', async () => {
    const broken = `${header}\n"unterminated, kim\n`;
    const attempt = mapUpload(options(broken, []), { preferWorker: true, maxWorkers: 1 });
    expect(attempt.inWorker).toBe(true);
    await expect(attempt.report).rejects.toBeInstanceOf(InputError);
    await expect(attempt.report).rejects.toThrow(/never closed/);
  });
});
