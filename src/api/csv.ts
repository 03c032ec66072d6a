/**
 * CSV downloads (rejected rows, linkage results): written by csv-stringify, with every text cell
 * that a spreadsheet would run as a formula neutralised (OWASP CSV injection): a cell starting with
 * =, +, -, @, tab or carriage return gets a leading apostrophe, so it opens as text.
 */
import { stringify } from 'csv-stringify/sync';

const formulaStart = /^[=+\-@\t\r]/;

/** A cell as text a spreadsheet shows and never evaluates; numbers stay numbers. */
export function safeCell(value: unknown): string | number {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return value;
  const text = String(value);
  return formulaStart.test(text) ? `'${text}` : text;
}

/** One or more CSV lines, each ending in a newline. */
export function csvLines(rows: readonly (readonly unknown[])[]): string {
  // A carriage return is quoted too, so that no reader takes it for the end of a row.
  return stringify(rows.map((row) => row.map(safeCell)), { record_delimiter: '\n', quoted_match: /\r/ });
}

/** Headers for a CSV file the browser saves rather than shows. */
export function csvDownloadHeaders(filename: string): Record<string, string> {
  return {
    'content-type': 'text/csv; charset=utf-8',
    'content-disposition': `attachment; filename="${filename.replace(/[^\w.-]/g, '_')}"`,
  };
}
