/**
 * Canonical customer records: bulk staging with COPY, publishing an upload as new versions in one
 * transaction, reading a version as of a time, and erasure.
 */
import { MATCH_KEYS_VERSION, matchKeys } from '../match/features.js';
import type { CustomerRecord } from '../standard/customer.js';
import { copyLine, type Database, type Queryable } from './database.js';
import { visibleDataset } from './visible.js';

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

function arrayLiteral(values: string[]): string {
  return `{${values.map((v) => `"${v.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`).join(',')}}`;
}

/**
 * A mapped record made ready for COPY where it was mapped (in a worker thread, for large uploads):
 * its row, its source id, and the record and its match keys (`keyColumns`) as COPY text.
 */
export interface PreparedRecord {
  row: number;
  sourceId: string;
  columns: string;
}

export function prepareRecord(row: number, record: CustomerRecord): PreparedRecord {
  return { row, sourceId: record.source.recordId, columns: `${copyLine([JSON.stringify(record)])}\t${keysLine(record)}` };
}

/** A record's match keys (`keyColumns`) as COPY text. */
function keysLine(record: CustomerRecord): string {
  const keys = matchKeys(record);
  return copyLine([
      keys.fullNameKey,
      keys.givenNameKey,
      keys.familyNameKey,
      keys.familyPhonetic,
      keys.birthDate,
      keys.birthYear,
      keys.postcodeKey,
      arrayLiteral(keys.emailKeys),
      arrayLiteral(keys.phoneKeys),
      arrayLiteral(keys.identifierKeys),
      keys.givenPhonetic,
  ]);
}

/** One line for COPY into staging. */
export function stagingLine({ row, sourceId, columns }: PreparedRecord): string {
  return `${copyLine([row, sourceId])}\t${columns}`;
}

export interface FirstLoad {
  /** Records with source ids not seen before in this upload. */
  write(records: PreparedRecord[]): Promise<void>;
  /** Ends the load; returns how many versions it wrote. */
  end(): Promise<number>;
  abort(): void;
}

/**
 * Into a dataset with no versions yet, every record is new: it goes straight into the table as
 * version 1 through one open COPY, with no staging and no lookups, so the server stores rows while
 * the next are mapped. The versions' time is the transaction's (NOW), read once, or the load's.
 */
export async function openFirstLoad(
  tx: Queryable,
  scope: { partnerId: string; datasetId: string; uploadId: string },
  /** For a load in slices (loading.ts): the instant the load began, the same for every slice. */
  validFrom?: string,
): Promise<FirstLoad> {
  const now = validFrom ?? ((await tx.query<{ now: string }>(`SELECT ${NOW}::text AS now`)) as [{ now: string }])[0].now;
  // The columns every row shares come first, so their COPY text is made once.
  const copy = await tx.openCopy('customer_records', ['partner_id', 'dataset_id', 'version', 'upload_id', 'valid_from', 'source_id', 'record', ...keyColumns]);
  const shared = copyLine([scope.partnerId, scope.datasetId, 1, scope.uploadId, now]);
  let written = 0;
  return {
    async write(records) {
      let lines = '';
      for (const { sourceId, columns } of records) lines += `${shared}\t${copyLine([sourceId])}\t${columns}\n`;
      written += records.length;
      await copy.write(lines);
    },
    async end() {
      await copy.end();
      return written;
    },
    abort: () => copy.abort(),
  };
}

export async function copyToStaging(tx: Queryable, lines: string[]): Promise<void> {
  if (lines.length) await tx.copyRows(STAGING, stagingColumns, `${lines.join('\n')}\n`);
}

const STAGED_ROWS = 'upload_staging_rows';

/** Keeps a batch of an upload's staged lines across transactions (loads in slices: loading.ts). */
export async function stageSlice(tx: Queryable, scope: { partnerId: string; uploadId: string }, lines: string[]): Promise<void> {
  if (!lines.length) return;
  const shared = copyLine([scope.partnerId, scope.uploadId]);
  await tx.copyRows(STAGED_ROWS, ['partner_id', 'upload_id', ...stagingColumns], `${lines.map((l) => `${shared}\t${l}`).join('\n')}\n`);
}

/** Moves an upload's kept slices into this transaction's staging table, to publish them. */
export async function unstageSlices(tx: Queryable, scope: { partnerId: string; uploadId: string }): Promise<void> {
  const columns = stagingColumns.join(', ');
  await tx.query(`INSERT INTO ${STAGING} (${columns}) SELECT ${columns} FROM ${STAGED_ROWS} WHERE partner_id = $1 AND upload_id = $2`, [scope.partnerId, scope.uploadId]);
  await discardSlices(tx, scope);
}

export async function discardSlices(db: Queryable, scope: { partnerId: string; uploadId: string }): Promise<void> {
  await db.query(`DELETE FROM ${STAGED_ROWS} WHERE partner_id = $1 AND upload_id = $2`, [scope.partnerId, scope.uploadId]);
}

/** At the embedded engine's start: slices of uploads a crash interrupted (none can be running). */
export async function discardAllSlices(db: Queryable): Promise<number> {
  return (await db.query(`DELETE FROM ${STAGED_ROWS} RETURNING 1`)).length;
}

/** Empties the staging table for the next batch. */
export async function clearStaging(tx: Queryable): Promise<void> {
  await tx.exec(`TRUNCATE ${STAGING}`);
}

/**
 * The current record of each source id: after an upload's batches are published, the record its
 * first row for that id became (or left unchanged), into which the rows repeating the id merge.
 */
export async function selectCurrentRecords(
  tx: Queryable,
  scope: { partnerId: string; datasetId: string },
  sourceIds: string[],
): Promise<{ sourceId: string; record: CustomerRecord }[]> {
  return tx.query(
    `SELECT source_id AS "sourceId", record FROM customer_records
     WHERE partner_id = $1 AND dataset_id = $2 AND source_id = ANY($3::text[]) AND valid_to IS NULL AND record IS NOT NULL`,
    [scope.partnerId, scope.datasetId, sourceIds],
  );
}

/**
 * Staged records whose current version this same upload wrote (merged repeats) replace that
 * version in place, since nobody has seen it yet, and leave staging; returns how many.
 */
export async function rewriteOwnVersions(tx: Queryable, scope: { partnerId: string; datasetId: string; uploadId: string }): Promise<number> {
  const rows = await tx.query(
    `WITH rewritten AS (
       UPDATE customer_records c SET record = s.record, ${keyColumns.map((k) => `${k} = s.${k}`).join(', ')}
       FROM ${STAGING} s
       WHERE c.partner_id = $1 AND c.dataset_id = $2 AND c.source_id = s.source_id AND c.valid_to IS NULL AND c.upload_id = $3
       RETURNING c.source_id)
     DELETE FROM ${STAGING} s USING rewritten r WHERE s.source_id = r.source_id RETURNING 1`,
    [scope.partnerId, scope.datasetId, scope.uploadId],
  );
  return rows.length;
}

/** Whether the dataset holds any version at all, erased ones included (none: a first load). */
export async function datasetHasVersions(tx: Queryable, scope: { partnerId: string; datasetId: string }): Promise<boolean> {
  const rows = await tx.query(`SELECT 1 FROM customer_records WHERE partner_id = $1 AND dataset_id = $2 LIMIT 1`, [scope.partnerId, scope.datasetId]);
  return rows.length > 0;
}

/**
 * Publishes the staged records into the dataset: a changed record closes its current version and
 * gets a new one; a new source id gets version 1 (or the next, after an erasure); an identical
 * record is left alone. All versions written share the transaction's time (NOW). (A dataset with
 * no versions yet is loaded by `openFirstLoad` instead.)
 */
export async function publishStaged(
  tx: Queryable,
  scope: { partnerId: string; datasetId: string; uploadId: string },
): Promise<{ inserted: number; updated: number; unchanged: number }> {
  const params = [scope.partnerId, scope.datasetId, scope.uploadId];
  const insert = (version: string, where: string) =>
    `WITH written AS (
       INSERT INTO customer_records (partner_id, dataset_id, source_id, version, upload_id, valid_from, record, ${keyColumns.join(', ')})
       SELECT $1, $2, s.source_id, ${version}, $3, ${NOW}, s.record, ${keyColumns.map((k) => `s.${k}`).join(', ')}
       FROM ${STAGING} s ${where}
       RETURNING 1)
     SELECT count(*)::int AS count FROM written`;
  // With staging's size known, the planner looks each staged record up by index rather than
  // scanning the whole dataset.
  await tx.exec(`ANALYZE ${STAGING}`);
  const [closed] = await tx.query<{ count: number }>(
    `WITH closed AS (
       UPDATE customer_records c SET valid_to = ${NOW}
       FROM ${STAGING} s
       WHERE c.partner_id = $1 AND c.dataset_id = $2 AND c.source_id = s.source_id AND c.valid_to IS NULL
         AND c.record IS DISTINCT FROM s.record
       RETURNING 1)
     SELECT count(*)::int AS count FROM closed`,
    params.slice(0, 2),
  );
  const [written] = await tx.query<{ count: number }>(
    insert(
      'coalesce((SELECT max(c.version) FROM customer_records c WHERE c.partner_id = $1 AND c.dataset_id = $2 AND c.source_id = s.source_id), 0) + 1',
      `WHERE NOT EXISTS (SELECT 1 FROM customer_records c
         WHERE c.partner_id = $1 AND c.dataset_id = $2 AND c.source_id = s.source_id AND c.valid_to IS NULL)`,
    ),
    params,
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
     WHERE partner_id = $1 AND dataset_id = $2 AND source_id = $3 AND ${visibleDataset('', '$1')}
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

/**
 * Stored match keys are recomputed when the extractor changes (`MATCH_KEYS_VERSION`): rows written
 * before carry an older `keys_version`. Batches of current and past versions alike (a past version
 * is read as of its time); erased rows have no keys to fix. Returns how many rows were rekeyed.
 */
export async function rekeyStaleRecords(db: Database, batchSize = 5_000): Promise<number> {
  let rekeyed = 0;
  for (;;) {
    const done = await db.transaction(async (tx) => {
      const stale = await tx.query<{ partner_id: string; dataset_id: string; source_id: string; version: number; record: CustomerRecord }>(
        `SELECT partner_id, dataset_id, source_id, version, record FROM customer_records
         WHERE keys_version < $1 AND record IS NOT NULL LIMIT $2 FOR UPDATE SKIP LOCKED`,
        [MATCH_KEYS_VERSION, batchSize],
      );
      if (!stale.length) return 0;
      await tx.exec(`CREATE TEMP TABLE rekeyed (partner_id uuid, dataset_id uuid, source_id text, version integer,
        full_name_key text, given_name_key text, family_name_key text, family_phonetic text, birth_date date,
        birth_year smallint, postcode_key text, email_keys text[], phone_keys text[], identifier_keys text[],
        given_phonetic text) ON COMMIT DROP`);
      const lines = stale.map((row) => `${copyLine([row.partner_id, row.dataset_id, row.source_id, row.version])}\t${keysLine(row.record)}\n`);
      await tx.copyRows('rekeyed', ['partner_id', 'dataset_id', 'source_id', 'version', ...keyColumns], lines.join(''));
      await tx.query(
        `UPDATE customer_records c SET ${keyColumns.map((column) => `${column} = r.${column}`).join(', ')}, keys_version = $1
         FROM rekeyed r WHERE c.partner_id = r.partner_id AND c.dataset_id = r.dataset_id AND c.source_id = r.source_id AND c.version = r.version`,
        [MATCH_KEYS_VERSION],
      );
      return stale.length;
    });
    rekeyed += done;
    if (done < batchSize) return rekeyed;
  }
}
