/** Maps a whole input: reads, maps each row, flags duplicates and keeps the report. */
import type { Readable } from 'node:stream';
import type { CustomerRecord } from '../standard/customer.js';
import { compileMapping, Outcome, outcomeNames, type CompiledMapping, type RowIssue } from './compile.js';
import type { Mapping } from './mapping-schema.js';
import { FingerprintTable } from './fingerprints.js';
import { identityKey } from './merge.js';
import { readRows, storableText } from './readers.js';

export const MAX_REPORTED_ISSUES = 1000;

export interface FieldStats {
  filled: number;
  empty: number;
  invalid: number;
  /** The file has no column for this field at all (absent is not empty). */
  absent?: boolean;
}

export interface MappingReport {
  mapping: string;
  rows: number;
  accepted: number;
  rejected: number;
  /** Distinct source ids among the accepted rows. */
  records: number;
  duplicates: {
    /** Rows merged into an earlier row with the same source id. */
    sameSourceId: number;
    /** Rows with another source id but the same normalised identity (flagged, kept). */
    sameIdentity: number;
    flagged: { row: number; sourceId: string; kind: 'same_source_id' | 'same_identity'; firstRow: number }[];
  };
  fields: Record<string, FieldStats>;
  /** Columns the mapping names that the file lacks: their rules were skipped (alternatives joined by |). */
  absentColumns?: string[];
  /** Rows refused because their source id was erased (counted in `rejected` too). */
  erased?: number;
  issueCount: number;
  issues: RowIssue[];
}

export class StrictModeError extends Error {
  override readonly name = 'StrictModeError';
  constructor(readonly issue: RowIssue) {
    super(`row ${issue.row}: ${issue.field}${issue.column ? ` (column ${issue.column})` : ''}: ${issue.reason}${issue.value !== null ? ` [value: ${issue.value}]` : ''}`);
  }
}

export interface MapInputOptions {
  input: Readable;
  mapping: Mapping;
  strict?: boolean;
  /** A new record (first row with its source id). */
  onRecord: (record: CustomerRecord, row: number) => void | Promise<void>;
  /** A later row with a source id seen before: the consumer merges it into that record. */
  onDuplicate?: (record: CustomerRecord, row: number) => void | Promise<void>;
  onProgress?: (rows: number) => void;
  /** Instead of compiling `mapping` (canonical NDJSON brings its own). */
  compiled?: CompiledMapping;
  maxRowBytes?: number;
}

export async function mapInput(options: MapInputOptions): Promise<MappingReport> {
  const { mapping, strict = false } = options;
  const compiled = options.compiled ?? compileMapping(mapping);
  const report: MappingReport = {
    mapping: mapping.name,
    rows: 0,
    accepted: 0,
    rejected: 0,
    records: 0,
    duplicates: { sameSourceId: 0, sameIdentity: 0, flagged: [] },
    fields: Object.fromEntries(mapping.rules.map((r) => [r.target, { filled: 0, empty: 0, invalid: 0 }])),
    issueCount: 0,
    issues: [],
  };
  const statsByRule = mapping.rules.map((rule) => report.fields[rule.target]!);
  const addIssue = (raw: RowIssue) => {
    // Reports are stored as JSON: no reason or value may hold text the database refuses.
    const issue = { ...raw, reason: storableText(raw.reason), value: raw.value === null ? null : storableText(raw.value) };
    if (strict) throw new StrictModeError(issue);
    report.issueCount += 1;
    if (report.issues.length < MAX_REPORTED_ISSUES) report.issues.push(issue);
  };
  const flag = (entry: MappingReport['duplicates']['flagged'][number]) => {
    if (report.duplicates.flagged.length < MAX_REPORTED_ISSUES) report.duplicates.flagged.push(entry);
  };
  // Each with the row it was first seen on; memory must stay small on large inputs.
  const seenIds = new FingerprintTable();
  const identities = new FingerprintTable();

  for await (const item of readRows(options.input, mapping.source, (header) => compiled.bindHeader(header), options.maxRowBytes)) {
    report.rows += 1;
    if (options.onProgress && report.rows % 10_000 === 0) options.onProgress(report.rows);
    if ('error' in item) {
      report.rejected += 1;
      addIssue({ row: item.row, column: item.column ?? null, value: null, field: '(row)', reason: item.error, severity: 'rejected' });
      continue;
    }
    const mapped = compiled.mapRow(item.data, item.row);
    for (let i = 0; i < mapped.outcomes.length; i += 1) {
      const outcome = mapped.outcomes[i]!;
      if (outcome !== Outcome.skipped) statsByRule[i]![outcomeNames[outcome] as 'filled' | 'empty' | 'invalid'] += 1;
    }
    const { sourceId: rowSourceId } = mapped;
    for (const { row, ...issue } of mapped.issues) addIssue(rowSourceId === undefined ? { row, ...issue } : { row, sourceId: rowSourceId, ...issue });
    if (!mapped.record) {
      report.rejected += 1;
      continue;
    }
    report.accepted += 1;
    const record = mapped.record;
    const sourceId = record.source.recordId;
    const firstRow = seenIds.firstOrAdd(sourceId, item.row);
    if (firstRow !== undefined) {
      report.duplicates.sameSourceId += 1;
      flag({ row: item.row, sourceId, kind: 'same_source_id', firstRow });
      await options.onDuplicate?.(record, item.row);
      continue;
    }
    report.records += 1;
    const identity = identityKey(record);
    if (identity) {
      const first = identities.firstOrAdd(identity, item.row);
      if (first !== undefined) {
        report.duplicates.sameIdentity += 1;
        flag({ row: item.row, sourceId, kind: 'same_identity', firstRow: first });
      }
    }
    await options.onRecord(record, item.row);
  }
  const absent = compiled.absent();
  if (absent.columns.length) report.absentColumns = absent.columns;
  for (const index of absent.rules) statsByRule[index]!.absent = true;
  return report;
}
