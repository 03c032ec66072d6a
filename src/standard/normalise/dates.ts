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

/** Dates written with only a year, or a year and month. */
const partialPatterns: { re: RegExp; order: ('y' | 'm')[] }[] = [
  { re: /^(\d{4})$/, order: ['y'] },
  { re: /^(\d{4})[-/.](\d{1,2})$/, order: ['y', 'm'] },
  { re: /^(\d{1,2})[-/.](\d{4})$/, order: ['m', 'y'] },
];

/** What is sound of a date: YYYY-MM when the month is, YYYY when only the year is. */
function partialDate(year: number, month: number): string | undefined {
  if (year < 1 || year > 9999) return undefined;
  const y = String(year).padStart(4, '0');
  return month >= 1 && month <= 12 ? `${y}-${String(month).padStart(2, '0')}` : y;
}

/**
 * Parses a written date to ISO `YYYY-MM-DD`; impossible dates (Feb 30, month 13) are refused.
 * With `partial` (birth dates: FHIR's date type) what is known is kept instead: a year and month
 * (`YYYY-MM`) or a year (`YYYY`), from a date written so (1985, 03/1985) or one whose day or
 * month is impossible or zero (1985-02-30 → 1985-02, 1985-00-00 → 1985).
 */
export function normaliseDate(value: string, formats: readonly DateFormat[] = defaultDateFormats(), options: { partial?: boolean } = {}): string {
  const text = value.trim().replace(/[０-９]/g, (d) => String.fromCharCode(d.charCodeAt(0) - 0xfee0));
  let matchedShape = false;
  let known: string | undefined;
  for (const format of formats) {
    const { re, order } = patterns[format];
    const match = re.exec(text);
    if (!match) continue;
    matchedShape = true;
    const parts = { y: 0, m: 0, d: 0 };
    order.forEach((part, i) => (parts[part] = Number(match[i + 1])));
    const iso = isoDate(parts.y, parts.m, parts.d);
    if (iso) return iso;
    known ??= partialDate(parts.y, parts.m);
  }
  if (options.partial) {
    if (known) return known;
    for (const { re, order } of partialPatterns) {
      const match = re.exec(text);
      if (!match) continue;
      const parts = { y: 0, m: 0 };
      order.forEach((part, i) => (parts[part] = Number(match[i + 1])));
      const found = order.length === 1 ? partialDate(parts.y, 0) : parts.m >= 1 && parts.m <= 12 ? partialDate(parts.y, parts.m) : undefined;
      if (found) return found;
      matchedShape = true;
    }
  }
  throw new NormaliseError(matchedShape ? 'an impossible date' : `not a date in the expected formats (${formats.join(', ')})`);
}

/** Whether `zone` is an IANA time zone this runtime knows (UTC, Asia/Shanghai, America/New_York…). */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const zoneFormats = new Map<string, Intl.DateTimeFormat>();

/** How far `zone`'s wall clock is ahead of UTC at the instant `utcMs`, in milliseconds. */
function zoneOffset(zone: string, utcMs: number): number {
  let format = zoneFormats.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    zoneFormats.set(zone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(new Date(utcMs)).map((p) => [p.type, p.value]));
  const wall = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
  return wall - Math.floor(utcMs / 1000) * 1000;
}

const wallClock = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?$/;
const withOffset = /(?:Z|[+-]\d{2}(?::?\d{2})?)$/i;

/**
 * Parses a timestamp (ISO 8601, or a date) to an ISO 8601 instant in UTC. A time with an offset (Z,
 * +08:00) is that instant; one without is a wall-clock time in `timeZone` (the mapping's declared
 * zone, UTC by default), never in the zone of the machine that happens to run the exchange.
 */
export function normaliseTimestamp(value: string, formats?: readonly DateFormat[], timeZone = 'UTC'): string {
  const text = value.trim();
  if (/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/.test(text)) {
    if (withOffset.test(text)) {
      const date = new Date(text.replace(' ', 'T'));
      if (!Number.isNaN(date.getTime())) return date.toISOString();
      throw new NormaliseError('an impossible timestamp');
    }
    const m = wallClock.exec(text);
    if (!m) throw new NormaliseError('not a timestamp (expected YYYY-MM-DD HH:MM[:SS], with or without an offset)');
    const [year, month, day, hour, minute, second] = m.slice(1, 7).map((v) => Number(v ?? 0)) as [number, number, number, number, number, number];
    const ms = Number((m[7] ?? '').padEnd(3, '0').slice(0, 3));
    if (!isoDate(year, month, day) || hour > 23 || minute > 59 || second > 59) throw new NormaliseError('an impossible timestamp');
    const asUtc = Date.UTC(year, month - 1, day, hour, minute, second, ms);
    // The zone's offset at the guess, then again at the corrected instant (a DST change between them).
    let instant = asUtc - zoneOffset(timeZone, asUtc);
    instant = asUtc - zoneOffset(timeZone, instant);
    return new Date(instant).toISOString();
  }
  return `${normaliseDate(text, formats)}T00:00:00.000Z`;
}
