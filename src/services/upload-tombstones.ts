/** Uploads keep erasures: rows naming an erased source id are refused and reported, without their values. */
import { MAX_REPORTED_ISSUES, type MappingReport } from '../mapping/run.js';
import type { Queryable } from '../store/database.js';
import type { PreparedRecord } from '../store/records.js';
import { selectTombstoneKeys } from '../store/tombstones.js';
import type { ServiceContext } from './context.js';
import { erasureKey } from './erase-record.js';

/**
 * The dataset's erased source ids, as tombstone keys: rows naming one are refused (reason `erased`)
 * and counted in the report, with neither their values nor their id. Undefined when there are none.
 */
export async function erasedSourceIds(ctx: ServiceContext, tx: Queryable, scope: { partnerId: string; datasetId: string }) {
  const keys = await selectTombstoneKeys(tx, scope);
  if (keys.size === 0) return undefined;
  const holds = (sourceId: string) => keys.has(erasureKey(ctx, scope.partnerId, scope.datasetId, sourceId));
  const rows: number[] = [];
  return {
    holds,
    keep(batch: PreparedRecord[]): PreparedRecord[] {
      return batch.filter((record) => {
        if (!holds(record.sourceId)) return true;
        rows.push(record.row);
        return false;
      });
    },
    report(report: MappingReport, recordIdColumn: string): void {
      report.erased = rows.length;
      report.accepted -= rows.length;
      report.records -= rows.length;
      report.rejected += rows.length;
      report.issueCount += rows.length;
      for (const row of rows) {
        if (report.issues.length >= MAX_REPORTED_ISSUES) break;
        report.issues.push({ row, column: recordIdColumn, value: null, field: 'source.recordId', reason: 'erased: this record was erased on request; lift its erasure to upload it again', severity: 'rejected' });
      }
    },
  };
}
