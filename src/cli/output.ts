/**
 * What commands print, and the one error they end with. Light on purpose: commands that only talk
 * to a running exchange import this, not the service, the store or the matcher.
 */
import { Option } from 'commander';

export class CliError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}

/** `--json`: one JSON document on stdout instead of a table, for scripts. */
export const jsonOption = () => new Option('--json', 'print JSON (one document) instead of a table');

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Rows as an aligned table, or as a JSON array with --json. */
export function printTable(rows: Record<string, unknown>[], columns: string[], options: { json?: boolean } = {}): void {
  if (options.json) return printJson(rows);
  const cell = (value: unknown) => (value instanceof Date ? value.toISOString() : value === null || value === undefined ? '-' : String(value));
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (values: string[]) => values.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd();
  process.stdout.write(`${line(columns)}\n`);
  for (const row of rows) process.stdout.write(`${line(columns.map((c) => cell(row[c])))}\n`);
}

/** One thing as `field  value` lines, or as a JSON object with --json. */
export function printRecord(value: Record<string, unknown>, fields: string[], options: { json?: boolean } = {}): void {
  if (options.json) return printJson(value);
  printTable(fields.map((field) => ({ field, value: value[field] })), ['field', 'value']);
}
