/** Compiles a mapping into a function from one source row to a canonical record and its issues. */
import { customerRecordSchema, type CustomerRecord } from '../standard/customer.js';
import { MappingError, parseTarget } from './load.js';
import { columnsOf, type Mapping, type Rule } from './mapping-schema.js';
import { compileTransform, PartlyKept, TransformError, type Value } from './transforms.js';

/** A source row: CSV cells by column, or a parsed JSON object. */
export type SourceRow = { kind: 'cells'; cells: string[] } | { kind: 'object'; object: Record<string, unknown> };

export interface RowIssue {
  row: number;
  /** The row's source record id, when it had one: what erasure finds the issue by. */
  sourceId?: string;
  column: string | null;
  value: string | null;
  field: string;
  reason: string;
  /** rejected: the row was not accepted; dropped: the row was, without this value. */
  /** rejected: the row is not stored; dropped: the field is not; partial: the field is kept in part (an impossible date's year and month). */
  severity: 'rejected' | 'dropped' | 'partial';
}

/** What each rule did with a row, by the rule's position in the mapping (0: its condition skipped the row). */
export const Outcome = { skipped: 0, filled: 1, empty: 2, invalid: 3 } as const;
export const outcomeNames = ['skipped', 'filled', 'empty', 'invalid'] as const;

export interface MappedRow {
  row: number;
  sourceId?: string;
  record?: CustomerRecord;
  issues: RowIssue[];
  /** One Outcome per rule; a typed array, since every row of a large input makes one. */
  outcomes: Uint8Array;
}

const MAX_VALUE_CHARS = 100;
function truncate(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  // Cut on a character, not inside a surrogate pair: half an emoji is text no database stores.
  return text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS).toWellFormed()}…` : text;
}

/** The value at a dotted path ("contact.emails.0") of a parsed JSON value. */
export function jsonPath(value: unknown, path: string): unknown {
  let current: unknown = value;
  for (const part of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = Array.isArray(current) && /^\d+$/.test(part) ? current[Number(part)] : (current as Record<string, unknown>)[part];
  }
  return current;
}

/** A cell or JSON value as a pipeline value: empty strings and nulls are empty. */
function toValue(raw: unknown): Value {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw === 'string') return raw.trim() === '' ? undefined : raw;
  if (typeof raw === 'number' || typeof raw === 'boolean') return raw;
  if (Array.isArray(raw)) {
    const items = raw.filter((x) => x !== null && x !== undefined && String(x).trim() !== '').map(String);
    return items.length ? items : undefined;
  }
  return JSON.stringify(raw);
}

type Getter = (row: SourceRow) => unknown;

interface CompiledRule {
  rule: Rule;
  /** The columns read, once the header has chosen among alternatives. */
  columns: string[];
  /** The file lacks the rule's column (or its condition's): the rule is skipped, and reported. */
  absent: boolean;
  get: (row: SourceRow) => Value;
  when: ((row: SourceRow) => boolean) | undefined;
  pipeline: ((v: Value) => Value)[];
  required: boolean;
  set: (draft: Draft, value: Value, sourced: boolean) => void;
}

interface Draft {
  record: Record<string, unknown>;
  /** Array elements by "key[group]", and whether a source value (not only a constant) landed in each. */
  elements: Map<string, { element: Record<string, unknown>; sourced: boolean; array: unknown[] }>;
}

function compileSetter(target: string): CompiledRule['set'] {
  const { segments } = parseTarget(target)!;
  // The element ids ("phones[mobile]", "addresses[home]") are fixed by the target: build them once.
  const ids: string[] = [];
  let prefix = '';
  for (const [i, segment] of segments.entries()) {
    prefix += `${i ? '.' : ''}${segment.key}`;
    if (segment.group !== undefined) prefix = `${prefix}[${segment.group}]`;
    ids.push(prefix);
  }
  const lastIndex = segments.length - 1;
  return (draft, value, sourced) => {
    let node = draft.record;
    for (let i = 0; i <= lastIndex; i += 1) {
      const segment = segments[i]!;
      if (segment.group !== undefined) {
        let entry = draft.elements.get(ids[i]!);
        if (!entry) {
          const array = (node[segment.key] ??= []) as unknown[];
          entry = { element: {}, sourced: false, array };
          array.push(entry.element);
          draft.elements.set(ids[i]!, entry);
        }
        entry.sourced ||= sourced;
        node = entry.element;
      } else if (i === lastIndex) {
        const existing = node[segment.key];
        if (Array.isArray(existing)) existing.push(...(Array.isArray(value) ? value : [value]));
        else node[segment.key] = value;
      } else {
        node = (node[segment.key] ??= {}) as Record<string, unknown>;
      }
    }
  };
}

/** Fields whose canonical type is a list of strings take a single value as a one-element list. */
const listTargets = new Set(['addresses[].lines', 'behaviour.channels']);

export interface CompiledMapping {
  mapping: Mapping;
  /**
   * Binds column names to positions once the header is known, choosing among alternatives; throws
   * when the file lacks the record id or a required rule's column, and skips the other rules whose
   * column it lacks.
   */
  bindHeader(header: string[]): void;
  /** After bindHeader: the rules (by index) whose column the file lacks, and the column names they looked for. */
  absent(): { rules: number[]; columns: string[] };
  mapRow(row: SourceRow, rowNumber: number): MappedRow;
}

export function compileMapping(mapping: Mapping): CompiledMapping {
  let columnIndex = new Map<string, number>();
  let bound = false;
  const getter = (name: string): Getter => (row) =>
    row.kind === 'cells' ? row.cells[columnIndex.get(name) ?? -1] : jsonPath(row.object, name);
  /** JSON has no header to choose from: the first alternative path that holds a value, row by row. */
  const firstOf = (names: string[]): Getter => (row) => {
    for (const name of names) {
      const value = getter(name)(row);
      if (value !== undefined && value !== null && value !== '') return value;
    }
    return undefined;
  };

  const compileRule = (rule: Rule): CompiledRule & { bind(has: (name: string) => boolean): string[] } => {
    const alternatives = typeof rule.from === 'object' && !Array.isArray(rule.from) ? rule.from.anyOf : undefined;
    const columns = [...columnsOf(rule.from)];
    let getters = alternatives ? [firstOf(alternatives)] : columns.map(getter);
    const get: CompiledRule['get'] =
      rule.value !== undefined
        ? () => rule.value
        : (row) => {
            if (getters.length === 1) return toValue(getters[0]!(row));
            const values = getters.map((g) => toValue(g(row))).filter((v) => v !== undefined).map(String);
            return values.length ? values : undefined;
          };
    const canonical = parseTarget(rule.target)!.canonical;
    const pipeline = rule.transforms.map((t) => compileTransform(t, mapping));
    // Several columns into one text field: joined with a space unless the rule says otherwise.
    if (getters.length > 1 && !listTargets.has(canonical) && !rule.transforms.some((t) => t.op === 'concat' || t.op === 'split')) {
      pipeline.unshift(compileTransform({ op: 'concat', separator: ' ' }, mapping));
    }
    if (listTargets.has(canonical)) pipeline.push((v) => (typeof v === 'string' ? [v] : v));
    let when: CompiledRule['when'];
    if (rule.when) {
      const { column, equals, in: among, notEmpty, matches } = rule.when;
      const get = getter(column);
      const re = matches ? new RegExp(matches) : undefined;
      when = (row) => {
        const raw = get(row);
        const text = raw === undefined || raw === null ? '' : String(raw).trim();
        if (notEmpty && text === '') return false;
        if (equals !== undefined && text !== equals) return false;
        if (among && !among.includes(text)) return false;
        if (re && !re.test(text)) return false;
        return true;
      };
    }
    const compiled: CompiledRule & { bind(has: (name: string) => boolean): string[] } = {
      rule,
      columns,
      absent: false,
      get,
      when,
      pipeline,
      required: rule.required === true || rule.transforms.some((t) => t.op === 'required'),
      set: compileSetter(rule.target),
      /** Chooses the columns the file has; returns the names looked for in vain (all absent: the rule is). */
      bind(has) {
        if (rule.value !== undefined) return [];
        const present = alternatives ? alternatives.filter(has).slice(0, 1) : columns.filter(has);
        const conditionMissing = rule.when !== undefined && !has(rule.when.column);
        compiled.absent = present.length === 0 || conditionMissing;
        compiled.columns = present.length ? present : columns;
        getters = compiled.columns.map(getter);
        if (compiled.absent) return [...(present.length ? [] : [alternatives ? alternatives.join('|') : columns.join('+')]), ...(conditionMissing ? [rule.when!.column] : [])];
        return [];
      },
    };
    return compiled;
  };

  const idRule = compileRule({ target: 'source.recordId', from: mapping.source.recordId, transforms: [{ op: 'trim' }, { op: 'required' }] });
  const rules = mapping.rules.map(compileRule);
  let absentColumns: string[] = [];

  return {
    mapping,
    bindHeader(header) {
      columnIndex = new Map(header.map((name, i) => [name.trim(), i]));
      bound = true;
      const has = (name: string) => columnIndex.has(name);
      const problems: { path: string; message: string }[] = [];
      if (idRule.bind(has).length) problems.push({ path: '/source/recordId', message: `column ${columnsOf(mapping.source.recordId).map((c) => `"${c}"`).join(' or ')} is not in the file` });
      absentColumns = [];
      rules.forEach((rule, i) => {
        const missing = rule.bind(has);
        if (!missing.length) return;
        if (rule.required) problems.push({ path: `/rules/${i}`, message: `column ${missing.map((c) => `"${c}"`).join(', ')} is not in the file, and the rule is required` });
        else absentColumns.push(...missing);
      });
      absentColumns = [...new Set(absentColumns)];
      if (problems.length) {
        const only = header.length === 1 ? header[0]! : '';
        const hint = only && /[;,\t|]/.test(only) ? ` The header is one column "${truncate(only)}": is the delimiter right (the mapping says ${JSON.stringify(mapping.source.delimiter)})?` : '';
        throw new MappingError(`the mapping ${mapping.name} does not fit this file (columns: ${header.slice(0, 20).map((h) => `"${h}"`).join(', ')}).${hint}`, problems);
      }
    },
    absent() {
      return bound ? { rules: rules.flatMap((r, i) => (r.absent ? [i] : [])), columns: absentColumns } : { rules: [], columns: [] };
    },
    mapRow(row, rowNumber) {
      const issues: RowIssue[] = [];
      const outcomes = new Uint8Array(rules.length);
      const draft: Draft = { record: { standardVersion: mapping.standardVersion }, elements: new Map() };
      let rejected = false;

      // index: the rule's position, or -1 for the record id rule, which the field counts leave out.
      const run = (compiled: CompiledRule, index: number) => {
        if (compiled.absent) return;
        if (compiled.when && !compiled.when(row)) return;
        const raw = compiled.get(row);
        let value = raw;
        const column = compiled.columns.join('+') || null;
        try {
          for (let step = 0; step < compiled.pipeline.length; step += 1) {
            try {
              value = compiled.pipeline[step]!(value);
            } catch (error) {
              if (!(error instanceof PartlyKept)) throw error;
              issues.push({ row: rowNumber, column, value: truncate(raw), field: compiled.rule.target, reason: error.message, severity: 'partial' });
              value = error.value;
            }
          }
        } catch (error) {
          if (!(error instanceof TransformError)) throw error;
          const severity = compiled.required ? 'rejected' : 'dropped';
          rejected ||= compiled.required;
          issues.push({ row: rowNumber, column: compiled.columns.join('+') || null, value: truncate(raw), field: compiled.rule.target, reason: error.message, severity });
          if (index >= 0) outcomes[index] = Outcome.invalid;
          return;
        }
        if (index >= 0) outcomes[index] = value === undefined ? Outcome.empty : Outcome.filled;
        if (value !== undefined) compiled.set(draft, value, compiled.rule.value === undefined);
      };

      run(idRule, -1);
      if (rejected) return { row: rowNumber, issues, outcomes };
      const sourceId = (draft.record.source as { recordId: string }).recordId;
      for (let i = 0; i < rules.length; i += 1) run(rules[i]!, i);
      if (rejected) return { row: rowNumber, sourceId, issues, outcomes };

      // An array element that only received constants (say a phone type, with no number) is dropped.
      for (const { element, sourced, array } of draft.elements.values()) {
        if (!sourced) array.splice(array.indexOf(element), 1);
      }
      for (const key of Object.keys(draft.record)) {
        const value = draft.record[key];
        if (Array.isArray(value) && value.length === 0) delete draft.record[key];
      }

      // The transforms produce valid values; the schema still has the last word (lengths, sizes).
      for (let attempt = 0; attempt < 5; attempt += 1) {
        const result = customerRecordSchema.safeParse(draft.record);
        if (result.success) return { row: rowNumber, sourceId, record: result.data, issues, outcomes };
        const issue = result.error.issues[0]!;
        let path = issue.path.map(String);
        if (path[0] === 'source' || path.length === 0) break;
        const value = jsonPath(draft.record, path.join('.'));
        // A member an element needs is missing (an identifier with no scheme, its column absent):
        // the element goes, since removing what is not there changes nothing.
        if (value === undefined && path.length > 1) path = path.slice(0, -1);
        issues.push({ row: rowNumber, column: null, value: truncate(value), field: path.join('.'), reason: issue.message, severity: 'dropped' });
        removePath(draft.record, path);
        // An array left empty goes too.
        const parent = path.slice(0, -1);
        if (parent.length && Array.isArray(jsonPath(draft.record, parent.join('.'))) && (jsonPath(draft.record, parent.join('.')) as unknown[]).length === 0) removePath(draft.record, parent);
      }
      issues.push({ row: rowNumber, column: null, value: null, field: '(record)', reason: 'the record does not fit the standard', severity: 'rejected' });
      return { row: rowNumber, sourceId, issues, outcomes };
    },
  };
}

function removePath(record: Record<string, unknown>, path: string[]): void {
  let node: unknown = record;
  for (const part of path.slice(0, -1)) node = (node as Record<string, unknown>)[part];
  const last = path.at(-1)!;
  if (Array.isArray(node)) node.splice(Number(last), 1);
  else if (node && typeof node === 'object') delete (node as Record<string, unknown>)[last];
}

/** Canonical records (NDJSON lines, or a JSON array): already in the standard's form; validated, not mapped. */
export function canonicalMapping(format: 'ndjson' | 'json' = 'ndjson'): Mapping {
  return {
    name: 'canonical',
    description: 'Records already in the canonical form.',
    standardVersion: '1.0.0',
    source: { format, encoding: 'utf-8', delimiter: ',', quote: '"', header: true, recordId: 'source.recordId', dateOrder: 'DMY', timeZone: 'UTC' },
    rules: [],
  };
}

const noOutcomes = new Uint8Array(0);

export function compileCanonical(format: 'ndjson' | 'json' = 'ndjson'): CompiledMapping {
  return {
    mapping: canonicalMapping(format),
    bindHeader() {},
    absent: () => ({ rules: [], columns: [] }),
    mapRow(row, rowNumber) {
      const result = customerRecordSchema.safeParse(row.kind === 'object' ? row.object : undefined);
      if (result.success) return { row: rowNumber, sourceId: result.data.source.recordId, record: result.data, issues: [], outcomes: noOutcomes };
      const recordId = row.kind === 'object' ? jsonPath(row.object, 'source.recordId') : undefined;
      const sourceId = typeof recordId === 'string' && recordId.trim() !== '' ? recordId : undefined;
      const issues = result.error.issues.slice(0, 5).map((issue): RowIssue => ({
        row: rowNumber,
        column: null,
        value: null,
        field: issue.path.map(String).join('.') || '(record)',
        reason: issue.message,
        severity: 'rejected',
      }));
      return { row: rowNumber, sourceId, issues, outcomes: noOutcomes };
    },
  };
}
