/** A time without an offset is read in the mapping's zone, never the machine's: the same answer under every TZ. */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { sourceSchema } from '../../src/mapping/mapping-schema.js';
import { normaliseTimestamp } from '../../src/standard/normalise/dates.js';

const script = `
import { normaliseTimestamp } from './src/standard/normalise/dates.ts';
const out = ['2024-05-01 12:00', '2024-05-01T12:00:30.5', '2024-05-01 12:00+02:00', '2024-03-31 02:30'].flatMap((t) =>
  ['UTC', 'Asia/Shanghai', 'America/New_York', 'Europe/Berlin'].map((zone) => normaliseTimestamp(t, undefined, zone)));
process.stdout.write(JSON.stringify(out));
`;

describe('time zones', () => {
  it('gives the same instants under TZ=UTC, Asia/Shanghai and America/New_York', () => {
    const runs = ['UTC', 'Asia/Shanghai', 'America/New_York'].map((tz) =>
      execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { env: { ...process.env, TZ: tz }, encoding: 'utf8' }),
    );
    expect(runs[1]).toBe(runs[0]);
    expect(runs[2]).toBe(runs[0]);
    const [utc, shanghai, newYork, berlin] = JSON.parse(runs[0]!) as string[];
    expect([utc, shanghai, newYork, berlin]).toEqual(['2024-05-01T12:00:00.000Z', '2024-05-01T04:00:00.000Z', '2024-05-01T16:00:00.000Z', '2024-05-01T10:00:00.000Z']);
  }, 30_000);

  it('keeps an offset the text states, and handles DST', () => {
    expect(normaliseTimestamp('2024-05-01 12:00+02:00', undefined, 'Asia/Shanghai')).toBe('2024-05-01T10:00:00.000Z');
    expect(normaliseTimestamp('2024-05-01T12:00:00Z', undefined, 'America/New_York')).toBe('2024-05-01T12:00:00.000Z');
    // New York: EST in January, EDT in July.
    expect(normaliseTimestamp('2024-01-15 09:00', undefined, 'America/New_York')).toBe('2024-01-15T14:00:00.000Z');
    expect(normaliseTimestamp('2024-07-15 09:00', undefined, 'America/New_York')).toBe('2024-07-15T13:00:00.000Z');
    expect(() => normaliseTimestamp('2024-02-30 09:00')).toThrow(/impossible/);
  });

  it('a mapping declares its zone; an unknown zone is refused', () => {
    expect(sourceSchema.parse({ format: 'csv', recordId: 'id' }).timeZone).toBe('UTC');
    expect(sourceSchema.parse({ format: 'csv', recordId: 'id', timeZone: 'Asia/Shanghai' }).timeZone).toBe('Asia/Shanghai');
    expect(sourceSchema.safeParse({ format: 'csv', recordId: 'id', timeZone: 'Mars/Olympus' }).success).toBe(false);
  });
});
