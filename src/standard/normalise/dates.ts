import { NormaliseError } from './error.js';

/** How to read a date whose day and month are both numbers, as in "03/04/1980". */
export type DateOrder = 'DMY' | 'MDY';

export const dateFormats = ['YYYY-MM-DD', 'YYYYMMDD', 'DD/MM/YYYY', 'MM/DD/YYYY', 'DD.MM.YYYY', 'YYYY/MM/DD', 'YYYY年M月D日', 'DD-MM-YYYY'] as const;
export type DateFormat = (typeof dateFormats)[number];

const patterns: Record<DateFormat, { re: RegExp; order: ('y' | 'm' | 'd')[] }> = {
  'YYYY-MM-DD': { re: /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ].*)?$/, order: ['y', 'm', 'd'] },
  YYYYMMDD: { re: /^(\d{4})(\d{2})(\d{2})$/, order: ['y', 'm', 'd'] },
  'DD/MM/YYYY': { re: /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/, order: ['d', 'm', 'y'] },
  'MM/DD/YYYY': { re: /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/, order: ['m', 'd', 'y'] },
  'DD.MM.YYYY': { re: /^(\d{1,2})\.(\d{1,2})\.(\d{4})$/, order: ['d', 'm', 'y'] },
  'YYYY/MM/DD': { re: /^(\d{4})\/(\d{1,2})\/(\d{1,2})$/, order: ['y', 'm', 'd'] },
  'YYYY年M月D日': { re: /^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日$/, order: ['y', 'm', 'd'] },
  'DD-MM-YYYY': { re: /^(\d{1,2})-(\d{1,2})-(\d{4})$/, order: ['d', 'm', 'y'] },
};

/** The formats tried when a mapping names none: unambiguous ones, then day-first or month-first slashes by `order`. */
export function defaultDateFormats(order: DateOrder = 'DMY'): DateFormat[] {
  return ['YYYY-MM-DD', 'YYYYMMDD', 'YYYY/MM/DD', 'YYYY年M月D日', order === 'MDY' ? 'MM/DD/YYYY' : 'DD/MM/YYYY', 'DD.MM.YYYY', 'DD-MM-YYYY'];
}

function isoDate(year: number, month: number, day: number): string | undefined {
  if (month < 1 || month > 12 || day < 1 || year < 1 || year > 9999) return undefined;
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return undefined;
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/** Parses a written date to ISO `YYYY-MM-DD`; impossible dates (Feb 30, month 13) are refused. */
export function normaliseDate(value: string, formats: readonly DateFormat[] = defaultDateFormats()): string {
  const text = value.trim().replace(/[０-９]/g, (d) => String.fromCharCode(d.charCodeAt(0) - 0xfee0));
  let matchedShape = false;
  for (const format of formats) {
    const { re, order } = patterns[format];
    const match = re.exec(text);
    if (!match) continue;
    matchedShape = true;
    const parts = { y: 0, m: 0, d: 0 };
    order.forEach((part, i) => (parts[part] = Number(match[i + 1])));
    const iso = isoDate(parts.y, parts.m, parts.d);
    if (iso) return iso;
  }
  throw new NormaliseError(matchedShape ? 'an impossible date' : `not a date in the expected formats (${formats.join(', ')})`);
}

/** Parses a timestamp (ISO 8601, or a date) to an ISO 8601 instant in UTC. */
export function normaliseTimestamp(value: string, formats?: readonly DateFormat[]): string {
  const text = value.trim();
  if (/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/.test(text)) {
    const date = new Date(text.replace(' ', 'T'));
    if (!Number.isNaN(date.getTime())) return date.toISOString();
    throw new NormaliseError('an impossible timestamp');
  }
  return `${normaliseDate(text, formats)}T00:00:00.000Z`;
}
