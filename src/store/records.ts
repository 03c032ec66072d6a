/**
 * Canonical customer records: bulk staging with COPY, publishing an upload as new versions in one
 * transaction, reading a version as of a time, and erasure.
 */
import type { MatchKeys } from '../match/keys.js';
import type { CustomerRecord } from '../standard/customer.js';
import type { Queryable } from './database.js';

const STAGING = 'upload_staging';
/**
 * Versions change at the transaction's time, cut to milliseconds: the API shows times in
 * milliseconds, so an upload's createdAt used as ?asOf= finds exactly that upload's versions.
 */
const NOW = "date_trunc('milliseconds', now())";
const stagingColumns = [
  'row_no', 'source_id', 'record', 'full_name_key', 'given_name_key', 'family_name_key', 'family_phonetic',
  'birth_date', 'birth_year', 'postcode_key', 'email_keys', 'phone_keys', 'identifier_keys', 'given_phonetic',
] as const;
const keyColumns = stagingColumns.slice(3);

/** Serialises the uploads into one dataset (until the transaction ends), so versions never race. */
export async function lockDatasetForUpload(tx: Queryable, datasetId: string): Promise<void> {
  await tx.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [`upload:${datasetId}`]);
}

/** A temporary table for one upload's records; it disappears with the transaction, whatever happens. */
export async function createStaging(tx: Queryable): Promise<void> {
  await tx.exec(`CREATE TEMP TABLE ${STAGING} (
    row_no integer NOT NULL, source_id text PRIMARY KEY, record jsonb NOT NULL,
    full_name_key text, given_name_key text, family_name_key text, family_phonetic text,
    birth_date date, birth_year smallint, postcode_key text, email_keys text[], phone_keys text[],
    identifier_keys text[], given_phonetic text
  ) ON COMMIT DROP`);
}

function csvCell(value: string | number | null): string {
  if (value === null) return '';
  const text = String(value);
  return `"${text.replaceAll('"', '""')}"`;
}

function arrayLiteral(values: string[]): string {
  return `{${values.map((v) => `"${v.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`).join(',')}}`;
}

export interface StagedRecord {
  row: number;
  record: CustomerRecord;
  keys: MatchKeys;
}

/** One CSV line for COPY; every value quoted, so an empty string is never read as null. */
export function stagingLine({ row, record, keys }: StagedRecord): string {
  return [
    csvCell(row),
    csvCell(record.source.recordId),
    csvCell(JSON.stringify(record)),
    csvCell(keys.fullNameKey),
    csvCell(keys.givenNameKey),
    csvCell(keys.familyNameKey),
    csvCell(keys.familyPhonetic),
    csvCell(keys.birthDate),
    csvCell(keys.birthYear),
    csvCell(keys.postcodeKey),
    csvCell(arrayLiteral(keys.emailKeys)),
    csvCell(arrayLiteral(keys.phoneKeys)),
    csvCell(arrayLiteral(keys.identifierKeys)),
    csvCell(keys.givenPhonetic),
  ].join(',');
}

export async function copyToStaging(tx: Queryable, lines: string[]): Promise<void> {
  if (lines.length) await tx.copyCsv(STAGING, stagingColumns, `${lines.join('\n')}\n`);
}

export async function selectStaged(tx: Queryable, sourceIds: string[]): Promise<{ sourceId: string; record: CustomerRecord }[]> {
  return tx.query(`SELECT source_id AS "sourceId", record FROM ${STAGING} WHERE source_id = ANY($1::text[])`, [sourceIds]);
}

/** Replaces a staged record (after merging the rows that repeated its source id). */
export async function restage(tx: Queryable, staged: StagedRecord): Promise<void> {
  const { record, keys } = staged;
  await tx.query(
    `UPDATE ${STAGING} SET record = $2, full_name_key = $3, given_name_key = $4, family_name_key = $5, family_phonetic = $6,
       birth_date = $7, birth_year = $8, postcode_key = $9, email_keys = $10, phone_keys = $11,
       identifier_keys = $12, given_phonetic = $13 WHERE source_id = $1`,
    [
      record.source.recordId, record, keys.fullNameKey, keys.givenNameKey, keys.familyNameKey, keys.familyPhonetic,
      keys.birthDate, keys.birthYear, keys.postcodeKey, keys.emailKeys, keys.phoneKeys, keys.identifierKeys, keys.givenPhonetic,
    ],
  );
}

/**
 * Publishes the staged records into the dataset: a changed record closes its current version and
 * gets a new one; a new source id gets version 1 (or the next, after an erasure); an identical
 * record is left alone. All versions written share the transaction's time (NOW).
 */
export async function publishStaged(
  tx: Queryable,
  scope: { partnerId: string; datasetId: string; uploadId: string },
): Promise<{ inserted: number; updated: number; unchanged: number }> {
  const params = [scope.partnerId, scope.datasetId];
  const [closed] = await tx.query<{ count: number }>(
    `WITH closed AS (
       UPDATE customer_records c SET valid_to = ${NOW}
       FROM ${STAGING} s
       WHERE c.partner_id = $1 AND c.dataset_id = $2 AND c.source_id = s.source_id AND c.valid_to IS NULL
         AND c.record IS DISTINCT FROM s.record
       RETURNING 1)
     SELECT count(*)::int AS count FROM closed`,
    params,
  );
  const [written] = await tx.query<{ count: number }>(
    `WITH written AS (
       INSERT INTO customer_records (partner_id, dataset_id, source_id, version, upload_id, valid_from, record, ${keyColumns.join(', ')})
       SELECT $1, $2, s.source_id,
         coalesce((SELECT max(c.version) FROM customer_records c WHERE c.partner_id = $1 AND c.dataset_id = $2 AND c.source_id = s.source_id), 0) + 1,
         $3, ${NOW}, s.record, ${keyColumns.map((k) => `s.${k}`).join(', ')}
       FROM ${STAGING} s
       WHERE NOT EXISTS (SELECT 1 FROM customer_records c
         WHERE c.partner_id = $1 AND c.dataset_id = $2 AND c.source_id = s.source_id AND c.valid_to IS NULL)
       RETURNING 1)
     SELECT count(*)::int AS count FROM written`,
    [...params, scope.uploadId],
  );
  const [staged] = await tx.query<{ count: number }>(`SELECT count(*)::int AS count FROM ${STAGING}`);
  const updated = closed!.count;
  return { inserted: written!.count - updated, updated, unchanged: staged!.count - written!.count };
}

export interface RecordVersion {
  sourceId: string;
  version: number;
  validFrom: Date;
  validTo: Date | null;
  record: CustomerRecord | null;
  erasedAt: Date | null;
}

/** The version current now, or as of a past instant. */
export async function selectRecordVersion(
  db: Queryable,
  scope: { partnerId: string; datasetId: string; sourceId: string; asOf?: string },
): Promise<RecordVersion | undefined> {
  const rows = await db.query<RecordVersion>(
    `SELECT source_id AS "sourceId", version, valid_from AS "validFrom", valid_to AS "validTo", record, erased_at AS "erasedAt"
     FROM customer_records
     WHERE partner_id = $1 AND dataset_id = $2 AND source_id = $3
       AND CASE WHEN $4::timestamptz IS NULL THEN valid_to IS NULL
                ELSE valid_from <= $4::timestamptz AND (valid_to IS NULL OR valid_to > $4::timestamptz) END
     ORDER BY version DESC LIMIT 1`,
    [scope.partnerId, scope.datasetId, scope.sourceId, scope.asOf ?? null],
  );
  return rows[0];
}

/** Removes the personal data of every version of a record; returns how many versions held any. */
export async function eraseRecordVersions(db: Queryable, scope: { partnerId: string; datasetId: string; sourceId: string }): Promise<number> {
  const rows = await db.query(
    `UPDATE customer_records SET record = NULL, ${keyColumns.map((k) => `${k} = NULL`).join(', ')},
       erased_at = ${NOW}, valid_to = coalesce(valid_to, ${NOW})
     WHERE partner_id = $1 AND dataset_id = $2 AND source_id = $3 AND erased_at IS NULL
     RETURNING version`,
    [scope.partnerId, scope.datasetId, scope.sourceId],
  );
  return rows.length;
}
