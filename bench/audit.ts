/**
 * npm run bench:audit [-- events]: the audit log's costs, on PGlite and on the server (default
 * 200,000 events): what recording an event adds to a transaction (p50/p95), how fast the
 * integrator logs queued events (events/s, batches of 1,024 and 4,096), how fast an inclusion
 * proof is served (p50/p95/p99, 1,000 random indices), and how long `cx audit verify` takes over the log.
 */
import { randomUUID } from 'node:crypto';
import { integrate, integrateAll, proveInclusion, type AuditLog } from '../src/audit/log.js';
import { ed25519PrivateKey, noteSigner, parseVerifierKey } from '../src/audit/note.js';
import { recordEvent } from '../src/audit/record-event.js';
import { verifyLog } from '../src/audit/verify.js';
import { insertAuditEvents } from '../src/store/audit-events.js';
import { selectEntries, selectLatestCheckpoint } from '../src/store/audit-log.js';
import type { Database } from '../src/store/database.js';
import { onBothEngines } from './engines.js';

const events = Number(process.argv[2] ?? 200_000);
const log: AuditLog = { origin: 'bench.example/audit', signer: noteSigner('bench.example/audit', ed25519PrivateKey(new Uint8Array(32).fill(1))) };
const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((p / 100) * values.length))]!;
const ms = (n: number) => `${n.toFixed(2)} ms`;
const actor = { actor: { type: 'system' as const }, requestId: null };

async function run(engine: 'pglite' | 'postgres', db: Database): Promise<void> {
  const partner = randomUUID();
  // Recording: a transaction with a small write, with and without its event.
  await db.exec(`CREATE TABLE bench_writes (id serial PRIMARY KEY, v text)`);
  const time = async (withEvent: boolean) => {
    const samples: number[] = [];
    for (let i = 0; i < 500; i += 1) {
      const started = performance.now();
      await db.transaction(async (tx) => {
        await tx.query('INSERT INTO bench_writes (v) VALUES ($1)', ['x']);
        if (withEvent) await recordEvent(tx, actor, { action: 'record.erasure_lift', targetType: 'dataset', targetId: partner, details: { requested: i, lifted: 0 } });
      });
      samples.push(performance.now() - started);
    }
    return samples;
  };
  const without = await time(false);
  const withEvent = await time(true);
  console.log(`bench:audit ${engine.padEnd(8)} a transaction: p50 ${ms(percentile(without, 50))} / p95 ${ms(percentile(without, 95))} without an event, p50 ${ms(percentile(withEvent, 50))} / p95 ${ms(percentile(withEvent, 95))} with one (+${ms(percentile(withEvent, 95) - percentile(without, 95))} at p95)`);

  // Integration: queue the events first (1,000 to a statement), then log them all.
  for (let done = 0; done < events; done += 1000) {
    const batch = Array.from({ length: Math.min(1000, events - done) }, (_, i) => ({
      actorType: 'system' as const, actorId: null, actorPartnerId: null, partnerId: partner, action: 'upload.reject' as const, targetType: 'upload', targetId: randomUUID(),
      outcome: 'failure' as const, requestId: null, details: { datasetId: partner, reason: `bench_${(done + i) % 7}` },
    }));
    await insertAuditEvents(db, batch);
  }
  const half = Math.floor(events / 2);
  let started = performance.now();
  await integrateAllUpTo(db, half, 1024);
  const first = (performance.now() - started) / 1000;
  started = performance.now();
  const size = await integrateAll(db, log, 4096);
  const second = (performance.now() - started) / 1000;
  console.log(`bench:audit ${engine.padEnd(8)} integrator: ${(half / first).toFixed(0)} events/s in batches of 1,024, ${((Number(size) - half) / second).toFixed(0)} events/s in batches of 4,096 (${Number(size).toLocaleString('en')} entries)`);

  // Proofs: random entries against the latest checkpoint, as the route reads them.
  const checkpoint = (await selectLatestCheckpoint(db))!;
  const proofs: number[] = [];
  for (let i = 0; i < 1000; i += 1) {
    const index = BigInt(Math.floor(Math.random() * Number(checkpoint.size)));
    const began = performance.now();
    const [entry] = await selectEntries(db, index, index + 1n);
    await proveInclusion(db, index, checkpoint, entry!);
    proofs.push(performance.now() - began);
  }
  console.log(
    `bench:audit ${engine.padEnd(8)} inclusion proof at ${Number(checkpoint.size).toLocaleString('en')} entries (1,000 random): p50 ${ms(percentile(proofs, 50))}, p95 ${ms(percentile(proofs, 95))}, p99 ${ms(percentile(proofs, 99))}; the first 100: p95 ${ms(percentile(proofs.slice(0, 100), 95))}`,
  );

  started = performance.now();
  const report = await verifyLog(db, [parseVerifierKey(log.signer.vkey)]);
  console.log(`bench:audit ${engine.padEnd(8)} verify (fsck) of ${Number(report.size).toLocaleString('en')} entries and ${report.checkpoints} checkpoints: ${((performance.now() - started) / 1000).toFixed(1)} s, ${report.ok ? 'ok' : `${report.problems.length} problems`}`);
}

/** Integrates until the log holds at least `size` entries. */
async function integrateAllUpTo(db: Database, size: number, batch: number): Promise<void> {
  for (let logged = 0n; logged < BigInt(size); ) logged = (await integrate(db, log, batch)).size;
}

await onBothEngines(run);
