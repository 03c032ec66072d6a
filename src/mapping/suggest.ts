/**
 * Drafts a mapping from a file's header and a sample of its rows: each column is matched to a field
 * of the standard by its name (English and Chinese, with synonyms, fuzzily by fuse.js) and by the
 * shape of its values (emails, phones, dates, postcodes, ID numbers). Pure: text in, mapping out.
 * The partner reviews the draft (each rule says how sure it is) and uploads with it.
 */
import { STANDARD_VERSION } from '../standard/customer.js';
import { parse } from 'csv-parse/sync';
import Fuse from 'fuse.js';
import { mappingSchema, type Mapping } from './mapping-schema.js';

/** A rule as written in a mapping file (before the schema fills defaults). */
type RuleInput = { target: string; from?: string; value?: string; transforms?: unknown[]; confidence?: number };

type Shape = (value: string) => boolean;

interface FieldGuess {
  target: string;
  names: string[];
  shape?: Shape;
  /** How far the shape alone may vouch for the field (four digits look like a postcode and like a year). */
  shapeWeight?: number;
  transforms: unknown[];
  /** Constants that go with the field (the type of a contact point). */
  companions?: RuleInput[];
}

const email: Shape = (v) => /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v);
const phone: Shape = (v) => /^\+?[\d\s().-]{7,20}$/.test(v) && (v.match(/\d/g) ?? []).length >= 7;
const date: Shape = (v) => /^(\d{4}[-/.]?\d{1,2}[-/.]?\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{4}|\d{4}年\d{1,2}月\d{1,2}日)$/.test(v);
const postcode: Shape = (v) => /^[A-Za-z0-9]{3,4}\s?[A-Za-z0-9]{0,3}$/.test(v) && /\d/.test(v) && v.length <= 8;
const chineseId: Shape = (v) => /^\d{17}[\dXx]$|^\d{15}$/.test(v);
const gender: Shape = (v) => /^(m|f|male|female|man|woman|男|女|1|2|u|unknown)$/i.test(v);

const fields: FieldGuess[] = [
  { target: 'name.full', names: ['name', 'full name', 'customer name', 'fullname', '姓名', '客户姓名', '客户名称'], transforms: ['trim'] },
  { target: 'name.given', names: ['first name', 'given name', 'firstname', 'given_name', 'fname', 'forename', 'fname_c1', 'first_name'], transforms: ['trim'] },
  { target: 'name.middle', names: ['middle name', 'middlename', 'middle_name'], transforms: ['trim'] },
  { target: 'name.family', names: ['last name', 'surname', 'family name', 'lastname', 'lname', 'lname_c1', 'last_name'], transforms: ['trim'] },
  { target: 'birthDate', names: ['date of birth', 'birth date', 'birthdate', 'dob', 'date_of_birth', 'birthday', '出生日期', '生日', '客户出生日期'], shape: date, shapeWeight: 0.8, transforms: [{ op: 'date', partial: true }] },
  { target: 'gender', names: ['gender', 'sex', '性别', '客户性别'], shape: gender, shapeWeight: 0.6, transforms: [{ op: 'lookup', table: { '1': 'male', '2': 'female' }, otherwise: 'keep', caseInsensitive: true }, { op: 'vocabulary', list: 'gender', minScore: 0.8 }] },
  { target: 'emails[primary].address', names: ['email', 'e-mail', 'email address', 'mail', '电子邮件', '邮箱', '电子邮箱'], shape: email, shapeWeight: 0.9, transforms: ['email'] },
  {
    target: 'phones[main].number',
    names: ['phone', 'mobile', 'telephone', 'phone number', 'mobile phone', 'cell', 'tel', '手机', '手机号码', '联系电话', '电话'],
    shape: phone,
    shapeWeight: 0.75,
    transforms: ['phone'],
  },
  { target: 'addresses[main].lines', names: ['address', 'street', 'street address', 'address_1', 'address line 1', 'mailing street', '地址', '联系地址', '居住地址', '通讯地址'], transforms: ['trim'] },
  { target: 'addresses[main].locality', names: ['city', 'town', 'suburb', 'locality', 'mailing city', '城市'], transforms: ['trim'] },
  { target: 'addresses[main].region', names: ['state', 'region', 'province', 'county', 'state/region', '省份', '省'], transforms: ['trim'] },
  { target: 'addresses[main].postcode', names: ['postcode', 'zip', 'postal code', 'zip code', 'post code', '邮编', '邮政编码'], shape: postcode, shapeWeight: 0.5, transforms: ['postcode'] },
  { target: 'addresses[main].country', names: ['country', 'country/region', 'nation', '国家'], transforms: ['country'] },
  {
    target: 'identifiers[id].value',
    names: ['id number', 'national id', 'ssn', 'soc_sec_id', 'social security number', 'passport', '证件号码', '身份证号', '身份证号码'],
    shape: chineseId,
    shapeWeight: 0.9,
    transforms: ['identifier'],
    companions: [{ target: 'identifiers[id].scheme', value: 'national_id' }],
  },
  { target: 'demographics.occupation', names: ['occupation', 'job title', 'title', 'profession', '职业', '客户职业'], transforms: ['trim'] },
  { target: 'demographics.maritalStatus', names: ['marital status', 'married', '婚姻状况'], transforms: [{ op: 'vocabulary', list: 'maritalStatus' }] },
  { target: 'demographics.educationLevel', names: ['education', 'education level', '学历', '教育程度'], transforms: [{ op: 'vocabulary', list: 'educationLevel' }] },
];
const normalise = (name: string) => name.toLowerCase().replace(/^\ufeff/, '').replace(/[\s_\-./]+/g, ' ').trim();
const idNames = ['id', 'record id', 'rec_id', 'customer id', 'contact id', 'customer number', 'client id', '客户号', '客户编号', '编号', '客户代码'].map(normalise);
/** Below this a column is left unmatched. */
const MIN_CONFIDENCE = 0.6;

export interface Suggestion {
  mapping: Mapping & { $comment?: string };
  /** Per column: the field chosen and how sure, or null. */
  columns: { column: string; target: string | null; confidence: number }[];
}

/** The delimiter a header line most likely uses. */
export function guessDelimiter(headerLine: string): string {
  if (/, /.test(headerLine) && headerLine.split(', ').length > 2 && !/,(?! )/.test(headerLine)) return ', ';
  const counts = [',', ';', '\t', '|'].map((d) => [d, headerLine.split(d).length - 1] as const);
  return counts.sort((a, b) => b[1] - a[1])[0]![1] > 0 ? counts[0]![0] : ',';
}

/** Drafts a mapping for a CSV with `header` and sample `rows`. */
export function suggestMapping(input: { name: string; header: string[]; rows: string[][]; delimiter: string }): Suggestion {
  const header = input.header.map((h) => h.replace(/^\ufeff/, '').trim());
  const values = (i: number) => input.rows.map((r) => (r[i] ?? '').trim()).filter((v) => v !== '');
  const catalogue = fields.flatMap((field, index) => field.names.map((name) => ({ index, name: normalise(name) })));
  const fuse = new Fuse(catalogue, { keys: ['name'], includeScore: true, threshold: 0.35, ignoreLocation: true });

  // Every (column, field) pair with its confidence; then each column and each field taken once, best first.
  const candidates: { column: number; field: number; confidence: number }[] = [];
  header.forEach((column, c) => {
    const name = normalise(column);
    const sample = values(c);
    const byName = new Map<number, number>();
    for (const hit of fuse.search(name)) {
      const exact = hit.item.name === name;
      const score = exact ? 1 : Math.max(0, 0.85 - 1.5 * (hit.score ?? 1));
      byName.set(hit.item.index, Math.max(byName.get(hit.item.index) ?? 0, score));
    }
    fields.forEach((field, f) => {
      const shapeShare = field.shape && sample.length ? sample.filter(field.shape).length / sample.length : 0;
      // Values that do not have the field's shape (an "address_2" of street names is no email) halve
      // what a fuzzy name says; values that have it raise it. An exact name stands.
      const byItsName = byName.get(f) ?? 0;
      const named = byItsName * (byItsName < 1 && field.shape && sample.length && shapeShare < 0.5 ? 0.5 : 1);
      const confidence = Math.min(1, Math.max(named, shapeShare * (field.shapeWeight ?? 0)) + (named > 0 && shapeShare > 0.8 ? 0.1 : 0));
      if (confidence >= MIN_CONFIDENCE) candidates.push({ column: c, field: f, confidence });
    });
  });
  candidates.sort((a, b) => b.confidence - a.confidence);

  // The record id: a column named like one, else the first whose values are all different.
  const named = header.findIndex((h) => idNames.includes(normalise(h)));
  const idColumn =
    named >= 0
      ? named
      : header.findIndex((_, i) => {
          const v = values(i);
          return v.length > 0 && new Set(v).size === v.length;
        });
  const taken = new Set<number>([idColumn]);
  const used = new Set<number>();
  const chosen = new Map<number, { field: number; confidence: number }>();
  for (const candidate of candidates) {
    if (taken.has(candidate.column) || used.has(candidate.field)) continue;
    taken.add(candidate.column);
    used.add(candidate.field);
    chosen.set(candidate.column, { field: candidate.field, confidence: candidate.confidence });
  }

  const rules: RuleInput[] = [];
  for (const [column, { field, confidence }] of [...chosen].sort((a, b) => a[0] - b[0])) {
    const guess = fields[field]!;
    rules.push({ target: guess.target, from: header[column]!, transforms: guess.transforms, confidence: Math.round(confidence * 100) / 100 });
    for (const companion of guess.companions ?? []) rules.push(companion);
  }
  if (rules.some((r) => r.target === 'phones[main].number')) rules.push({ target: 'phones[main].type', value: 'mobile' });
  // A Chinese full name with no separate parts: the parts come from it.
  const full = rules.find((r) => r.target === 'name.full');
  if (full && !rules.some((r) => r.target === 'name.family')) {
    rules.push({ target: 'name.family', from: full.from, transforms: [{ op: 'name', part: 'family' }] }, { target: 'name.given', from: full.from, transforms: [{ op: 'name', part: 'given' }] });
  }
  const dates = rules.find((r) => r.target === 'birthDate');
  const dateValues = dates ? values(header.indexOf(dates.from!)) : [];
  const monthFirst = dateValues.some((v) => /^\d{1,2}[/.-](1[3-9]|2\d|3[01])[/.-]\d{4}$/.test(v));
  const unmatched = header.filter((_, i) => i !== idColumn && !chosen.has(i));
  // Phones without a prefix need a country: Chinese headers or Chinese mobile numbers say CN.
  const phoneRule = rules.find((r) => r.target === 'phones[main].number');
  const phoneValues = phoneRule ? values(header.indexOf(phoneRule.from!)) : [];
  const chinese = header.some((h) => /\p{Script=Han}/u.test(h)) || (phoneValues.length > 0 && phoneValues.every((v) => /^1[3-9]\d{9}$/.test(v.replace(/[\s-]/g, ''))));
  // Through the schema: a draft is a valid mapping, with every default filled in.
  const mapping = mappingSchema.parse({
    name: input.name,
    description: 'Drafted by cx mappings suggest: review every rule (confidence below 0.8 first) before uploading with it.',
    ...(unmatched.length ? { $comment: `unmatched columns: ${unmatched.join(', ')}` } : {}),
    standardVersion: STANDARD_VERSION,
    source: { format: 'csv', delimiter: input.delimiter, recordId: header[Math.max(idColumn, 0)]!, ...(monthFirst ? { dateOrder: 'MDY' } : {}), ...(chinese ? { defaultCountry: 'CN' } : {}) },
    rules,
  });
  return {
    mapping,
    columns: header.map((column, i) => ({
      column,
      target: i === idColumn ? 'source.recordId' : chosen.has(i) ? fields[chosen.get(i)!.field]!.target : null,
      confidence: i === idColumn ? 1 : Math.round((chosen.get(i)?.confidence ?? 0) * 100) / 100,
    })),
  };
}

/** The first rows of a file's text, as the suggester reads them. */
export function suggestFromText(name: string, text: string, sampleRows = 200): Suggestion {
  const lines = text.replace(/^\ufeff/, '').split(/\r?\n/);
  const delimiter = guessDelimiter(lines[0] ?? '');
  // Only the first rows: a cut-off last line is dropped rather than misread.
  const head = lines.slice(0, sampleRows + 1).join('\n');
  const rows = parse(head, { delimiter, relax_column_count: true, relax_quotes: true, skip_empty_lines: true, trim: true, skip_records_with_error: true }) as string[][];
  const [header, ...sample] = rows;
  if (!header?.length) throw new SuggestError('the file has no header row to draft a mapping from');
  return suggestMapping({ name, header, rows: sample, delimiter });
}

export class SuggestError extends Error {}

/** A mapping name from a file name: lowercase letters, digits and hyphens. */
export function mappingNameFor(file: string): string {
  const base = file.split(/[\\/]/).pop()!.replace(/\.[^.]+$/, '').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  return /^[a-z0-9][a-z0-9-]{1,62}$/.test(base) ? base : `suggested-${base.slice(0, 40) || 'mapping'}`.replace(/-+$/, '');
}
