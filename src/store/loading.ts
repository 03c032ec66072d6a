/**
 * First loads in slices, for the embedded engine: PGlite has one connection, so one transaction
 * holding a 100,000-record load would make every other request wait for it. Instead the load
 * commits a slice at a time into a dataset marked loading, which readers treat as empty
 * (`visibleDataset` in visible.ts); the last transaction clears the mark with the upload's row and audit event,
 * so the records appear all at once. A load that fails, or that a crash interrupted, is removed.
 */
import { forLongWork, type Database, type Queryable } from './database.js';
import { discardAllSlices } from './records.js';

/** Marks the dataset loading; returns the instant its versions are valid from (the upload's time). */
export async function beginLoading(db: Database, scope: { partnerId: string; datasetId: string; uploadId: string }): Promise<string> {
  const [row] = await db.query<{ since: string }>(
    `UPDATE datasets SET loading_upload_id = $3 WHERE partner_id = $1 AND id = $2 AND loading_upload_id IS NULL
     RETURNING date_trunc('milliseconds', now())::text AS since`,
    [scope.partnerId, scope.datasetId, scope.uploadId],
  );
  if (!row) throw new Error('the dataset is already loading');
  return row.since;
}

/** Ends the load inside its last transaction: from its commit, readers see the records. */
export async function finishLoading(tx: Queryable, scope: { partnerId: string; datasetId: string; uploadId: string }): Promise<void> {
  await tx.query(`UPDATE datasets SET loading_upload_id = NULL WHERE partner_id = $1 AND id = $2 AND loading_upload_id = $3`, [
    scope.partnerId,
    scope.datasetId,
    scope.uploadId,
  ]);
}

const DISCARD_SLICE_ROWS = 5000;

/** Removes what a failed or interrupted load wrote, a slice at a time, then the mark. */
export async function discardLoading(db: Database, scope: { partnerId: string; datasetId: string; uploadId: string }): Promise<void> {
  const params = [scope.partnerId, scope.datasetId, scope.uploadId];
  for (;;) {
    const deleted = await db.query(
      `DELETE FROM customer_records WHERE partner_id = $1 AND dataset_id = $2 AND (source_id, version) IN (
         SELECT source_id, version FROM customer_records WHERE partner_id = $1 AND dataset_id = $2 AND upload_id = $3 LIMIT ${DISCARD_SLICE_ROWS})
       RETURNING 1`,
      params,
    );
    if (deleted.length < DISCARD_SLICE_ROWS) break;
  }
  await finishLoading(db, scope);
}

/**
 * At start: loads a crash interrupted are removed; returns how many. (Slices kept for later
 * uploads go too, on the embedded engine, where no other process can be loading.)
 */
export async function discardInterruptedLoads(db: Database): Promise<number> {
  if (db.engine === 'pglite') await discardAllSlices(db);
  const loading = await db.query<{ partnerId: string; datasetId: string; uploadId: string }>(
    `SELECT partner_id AS "partnerId", id AS "datasetId", loading_upload_id AS "uploadId" FROM datasets WHERE loading_upload_id IS NOT NULL`,
  );
  for (const scope of loading) await discardLoading(db, scope);
  return loading.length;
}

const queues = new WeakMap<Database, Map<string, Promise<unknown>>>();

/**
 * Runs the uploads into one dataset one after the other, in this process. A sliced load spans
 * transactions, so the advisory lock a transaction takes (which on PGlite's single session never
 * waits anyway) cannot hold it; the embedded database belongs to this one process (lock.ts).
 */
export async function oneUploadAtATime<T>(db: Database, datasetId: string, fn: () => Promise<T>): Promise<T> {
  // Uploads run on the long-work connections, an erasure on the requests': one queue for both.
  const database = forLongWork(db);
  let byDataset = queues.get(database);
  if (!byDataset) queues.set(database, (byDataset = new Map()));
  const before = byDataset.get(datasetId) ?? Promise.resolve();
  const run = before.catch(() => {}).then(fn);
  const tail = run.catch(() => {});
  byDataset.set(datasetId, tail);
  try {
    return await run;
  } finally {
    if (byDataset.get(datasetId) === tail) byDataset.delete(datasetId);
  }
}
