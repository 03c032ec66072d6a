/**
 * The only reads of another partner's records. Each takes a verified consent grant and applies it
 * in SQL: the grantor's partition, the granted datasets, each record's own consent for the purpose
 * (cx_record_permits) and the granted fields (cx_disclose), so no caller can skip any of them.
 */
import { assertVerifiedGrant, type ConsentGrant } from '../core/grant.js';
import type { Queryable } from './database.js';
import { visibleDataset } from './visible.js';

export interface DisclosedRecord {
  datasetId: string;
  sourceId: string;
  version: number;
  validFrom: Date;
  record: Record<string, unknown>;
}

/** The grant's scope as SQL conditions on customer_records `r`, with its parameters from $1. */
function grantScope(grant: ConsentGrant): { where: string; params: unknown[] } {
  return {
    where: `r.partner_id = $1 AND r.valid_to IS NULL AND r.record IS NOT NULL AND ${visibleDataset('r', '$1')}
      AND ($2::uuid[] IS NULL OR r.dataset_id = ANY($2::uuid[]))
      AND cx_record_permits(r.record, $3, $4)`,
    params: [grant.grantorId, grant.datasets, grant.purpose, grant.optIn],
  };
}

/** One current record of the grantor, cut down to the granted fields; undefined when the grant does not reach it. */
export async function selectDisclosedRecord(
  db: Queryable,
  grant: ConsentGrant,
  key: { datasetId: string; sourceId: string },
): Promise<DisclosedRecord | undefined> {
  assertVerifiedGrant(grant, 'disclose');
  const scope = grantScope(grant);
  const rows = await db.query<DisclosedRecord>(
    `SELECT r.dataset_id AS "datasetId", r.source_id AS "sourceId", r.version, r.valid_from AS "validFrom",
       cx_disclose(r.record, $5::text[]) AS record
     FROM customer_records r
     WHERE ${scope.where} AND r.dataset_id = $6 AND r.source_id = $7`,
    [...scope.params, grant.fields, key.datasetId, key.sourceId],
  );
  return rows[0];
}
