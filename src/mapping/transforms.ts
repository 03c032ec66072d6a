/** The transforms a mapping rule pipes values through, compiled once per mapping. */
import Fuse from 'fuse.js';
import { codeLists, codeSynonyms, type CodeListName } from '../standard/code-lists.js';
import {
  defaultDateFormats,
  isHanName,
  nameKey,
  NormaliseError,
  normaliseCountry,
  normaliseDate,
  normaliseEmail,
  normaliseMoney,
  normalisePhone,
  normalisePostcode,
  normaliseTimestamp,
  parseDecimal,
  splitHanName,
  splitLatinName,
  tidyName,
  titleCase,
} from '../standard/normalise/index.js';
import type { Mapping, Transform } from './mapping-schema.js';

export type Money = { amount: number; currency: string };
/** What flows through a pipeline; undefined is an empty value. */
export type Value = string | number | boolean | string[] | Money | undefined;
export type CompiledTransform = (value: Value) => Value;

/** A value a transform refuses; the message is the reason in the report. */
export class TransformError extends Error {
  override readonly name = 'TransformError';

  constructor(message: string) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0; // routine, and hot: no stack trace
    super(message);
    Error.stackTraceLimit = limit;
  }
}

/** A value a transform could keep only in part (an impossible birth date's year and month): kept, and reported. */
export class PartlyKept extends TransformError {
  constructor(
    message: string,
    readonly value: Value,
  ) {
    super(message);
  }
}

function asText(value: Value): string | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) return value.join(' ');
  if (typeof value === 'object') return `${value.amount} ${value.currency}`;
  return String(value);
}

/** Applies a string function to a value, or to each element of a list. */
function eachText(value: Value, fn: (text: string) => Value): Value {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) {
    const out = value.map((v) => fn(v)).filter((v): v is string => typeof v === 'string' && v !== '');
    return out.length ? out : undefined;
  }
  const out = fn(asText(value)!);
  return out === '' ? undefined : out;
}

/** Runs a normaliser, turning its refusal into a transform error. */
function normalising(fn: (text: string) => Value): (text: string) => Value {
  return (text) => {
    try {
      return fn(text);
    } catch (error) {
      if (error instanceof NormaliseError) throw new TransformError(error.message);
      throw error;
    }
  };
}

const MEMO_LIMIT = 20_000;

/**
 * Remembers a normaliser's answers (and refusals): exports repeat countries, dates and
 * timestamps on many rows. Bounded, and cleared when full, so memory stays flat.
 */
function memoised(fn: (text: string) => Value): (text: string) => Value {
  const answers = new Map<string, Value | TransformError>();
  const guarded = normalising(fn);
  return (text) => {
    let answer = answers.get(text);
    if (answer === undefined) {
      try {
        answer = guarded(text);
      } catch (error) {
        if (!(error instanceof TransformError)) throw error;
        answer = error;
      }
      if (answers.size >= MEMO_LIMIT) answers.clear();
      answers.set(text, answer);
    }
    if (answer instanceof TransformError) throw answer;
    return answer;
  };
}

const vocabularies = new Map<CodeListName, (text: string, minScore: number) => string | undefined>();

/** Exact code or synonym first; then the closest by fuse.js, if it scores at least minScore (1 = identical). */
function vocabularyMatcher(list: CodeListName) {
  let matcher = vocabularies.get(list);
  if (!matcher) {
    const terms: { term: string; code: string }[] = [];
    for (const code of codeLists[list]) {
      terms.push({ term: code, code }, { term: code.replaceAll('_', ' '), code });
      for (const synonym of codeSynonyms[list]?.[code] ?? []) terms.push({ term: synonym, code });
    }
    const exact = new Map(terms.map((t) => [nameKey(t.term), t.code]));
    const fuse = new Fuse(terms, { keys: ['term'], includeScore: true, threshold: 0.6, ignoreLocation: true });
    matcher = (text, minScore) => {
      const key = nameKey(text);
      const hit = exact.get(key);
      if (hit) return hit;
      const [best] = fuse.search(key, { limit: 1 });
      if (best && 1 - (best.score ?? 1) >= minScore) return best.item.code;
      return undefined;
    };
    vocabularies.set(list, matcher);
  }
  return matcher;
}

export function compileTransform(transform: Transform, mapping: Pick<Mapping, 'source'>): CompiledTransform {
  const { source } = mapping;
  switch (transform.op) {
    case 'trim':
      return (v) => eachText(v, (t) => t.replace(/\s+/gu, ' ').trim());
    case 'case': {
      const fn = transform.to === 'upper' ? (t: string) => t.toUpperCase() : transform.to === 'lower' ? (t: string) => t.toLowerCase() : titleCase;
      return (v) => eachText(v, fn);
    }
    case 'nullIf': {
      const empty = new Set(transform.values.map((x) => x.toLowerCase()));
      return (v) => eachText(v, (t) => (empty.has(t.trim().toLowerCase()) ? '' : t));
    }
    case 'split': {
      const { separator, index } = transform;
      return (v) => {
        const text = asText(v);
        if (text === undefined) return undefined;
        const parts = text.split(separator).map((p) => p.trim()).filter(Boolean);
        if (index === undefined) return parts.length ? parts : undefined;
        return parts.at(index);
      };
    }
    case 'concat': {
      const { separator } = transform;
      return (v) => (Array.isArray(v) ? v.filter(Boolean).join(separator) || undefined : v);
    }
    case 'regex': {
      const re = new RegExp(transform.pattern, transform.flags);
      const group = transform.group;
      return (v) =>
        eachText(v, (t) => {
          const match = re.exec(t);
          const picked = match ? (typeof group === 'number' ? match[group] : match.groups?.[group]) : undefined;
          if (picked === undefined) throw new TransformError(`does not match /${transform.pattern}/`);
          return picked;
        });
    }
    case 'replace': {
      const re = new RegExp(transform.pattern, `g${transform.flags ?? ''}`);
      return (v) => eachText(v, (t) => t.replace(re, transform.with));
    }
    case 'date': {
      const formats = transform.formats ?? defaultDateFormats(transform.order ?? source.dateOrder);
      const parse = memoised((t) => {
        if (!transform.partial) return normaliseDate(t, formats);
        try {
          return normaliseDate(t, formats);
        } catch (error) {
          // Written as a date (a year alone, or a year and month) is no issue; an impossible one kept in part is reported.
          const kept = normaliseDate(t, formats, { partial: true });
          if (error instanceof NormaliseError && error.message === 'an impossible date') {
            throw new PartlyKept(`an impossible date; ${kept.length === 7 ? 'its year and month' : 'its year'} kept`, kept);
          }
          return kept;
        }
      });
      return (v) => eachText(v, parse);
    }
    case 'timestamp': {
      const formats = transform.formats ?? defaultDateFormats(transform.order ?? source.dateOrder);
      const parse = memoised((t) => normaliseTimestamp(t, formats, source.timeZone));
      return (v) => eachText(v, parse);
    }
    case 'number': {
      const parse = normalising((t) => parseDecimal(t, { decimal: transform.decimal }));
      return (v) => (typeof v === 'number' ? v : v === undefined ? undefined : parse(asText(v)!));
    }
    case 'integer': {
      const parse = normalising((t) => parseDecimal(t));
      return (v) => {
        if (v === undefined) return undefined;
        const n = typeof v === 'number' ? v : parse(asText(v)!);
        if (typeof n !== 'number' || !Number.isInteger(n)) throw new TransformError('not a whole number');
        return n;
      };
    }
    case 'money': {
      const currency = transform.currency ?? source.defaultCurrency;
      const parse = normalising((t) => normaliseMoney(t, currency, { decimal: transform.decimal }));
      return (v) => (v === undefined ? undefined : parse(asText(v)!));
    }
    case 'phone': {
      const country = transform.country ?? source.defaultCountry;
      const parse = normalising((t) => normalisePhone(t, country));
      return (v) => eachText(v, parse);
    }
    case 'email': {
      const parse = normalising(normaliseEmail);
      return (v) => eachText(v, parse);
    }
    case 'country': {
      const parse = memoised(normaliseCountry);
      return (v) => eachText(v, parse);
    }
    case 'postcode': {
      const parse = memoised((t) => normalisePostcode(t, transform.country));
      return (v) => eachText(v, parse);
    }
    case 'identifier':
      return (v) => eachText(v, (t) => t.toUpperCase().replace(/[\s-]+/g, ''));
    case 'name': {
      const { part } = transform;
      return (v) =>
        eachText(v, (t) => {
          const full = tidyName(t);
          const parts = isHanName(full) ? { ...splitHanName(full), middle: undefined } : splitLatinName(full);
          return parts[part] ?? '';
        });
    }
    case 'lookup': {
      const fold = (t: string) => (transform.caseInsensitive ? t.trim().toLowerCase() : t.trim());
      const table = new Map(Object.entries(transform.table).map(([k, val]) => [fold(k), val]));
      return (v) =>
        eachText(v, (t) => {
          const hit = table.get(fold(t));
          if (hit !== undefined) return hit as string;
          if (transform.otherwise === 'keep') return t;
          if (transform.otherwise === 'empty') return '';
          throw new TransformError('not in the lookup table');
        });
    }
    case 'vocabulary': {
      const match = vocabularyMatcher(transform.list);
      return (v) =>
        eachText(v, (t) => {
          const code = match(t, transform.minScore);
          if (!code) throw new TransformError(`not a known ${transform.list} (codes: ${codeLists[transform.list].join(', ')})`);
          return code;
        });
    }
    case 'default':
      return (v) => (v === undefined ? transform.value : v);
    case 'required':
      return (v) => {
        if (v === undefined) throw new TransformError('required but empty');
        return v;
      };
  }
}
