/**
 * Backfill throughput of the mongo adapter, with and without the undo log.
 *
 *   npx nx run migrations-mongo:bench            # sizes 2000 and 20000, 60 s per run
 *   ZDM_BENCH_SIZES=5000 ZDM_BENCH_SECONDS=30 npx nx run migrations-mongo:bench
 *
 * Uses MONGO_URL when set, else a local FerretDB. Each run seeds a fresh collection of N v1
 * customers and backfills it in batches of 100 until done or until the time is up, then reports
 * documents written per second. Runs with and without the undo log alternate, so a change in
 * machine load hits both alike. Also times one undo record insert on its own.
 */
import { Doc, MigrationRegistry, Migrator } from '@zdm/migrations-core';
import { mongo } from 'mongoose';
import { createMongoBackend } from '../lib/mongo.backend';
import { UndoLog } from '../lib/undo.log';
import { fullNameMigration, seedCustomers } from './customers.fixture';
import { startTestMongo } from './ferretdb.fixture';
import { advanceTo } from './fleet.fixture';

const sizes = (process.env['ZDM_BENCH_SIZES'] ?? '2000,20000').split(',').map(Number);
const seconds = Number(process.env['ZDM_BENCH_SECONDS'] ?? 60);
const rounds = Number(process.env['ZDM_BENCH_ROUNDS'] ?? 1);
const BATCH = 100;

interface Run {
  size: number;
  undo: boolean;
  written: number;
  seconds: number;
  batchMs: number;
}

async function backfill(db: mongo.Db, size: number, undo: boolean): Promise<Run> {
  const collection = `bench_${size}_${undo ? 'undo' : 'plain'}`;
  await db.collection(collection).drop().catch(() => undefined);
  await seedCustomers(db.collection(collection), size);
  const def = fullNameMigration(collection, { id: `bench.full-name.${collection.replace(/_/g, '-')}`, service: `bench-${collection.replace(/_/g, '-')}` });
  const registry = MigrationRegistry.create([def]);
  await db.collection('zdm_leases').deleteMany({ _id: `${def.id}:backfill` } as Doc);
  await db.collection('zdm_migrations').deleteMany({ _id: def.id } as Doc);
  const migrator = new Migrator({
    registry,
    backend: createMongoBackend({ db, registry, undoLog: undo }),
    throttle: { initialBatchSize: BATCH, minBatchSize: BATCH, maxBatchSize: BATCH, targetLatencyMs: 600_000 },
    leaseTtlMs: 600_000,
  });
  await advanceTo(migrator, def, 'backfill');
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(), seconds * 1000);
  let written = 0;
  let latency = 0;
  let batches = 0;
  const started = performance.now();
  await migrator.run(def.id, 'backfill', {
    signal: stop.signal,
    onBatch: (e) => {
      written += e.written;
      latency += e.latencyMs;
      batches++;
    },
  });
  const elapsed = (performance.now() - started) / 1000;
  clearTimeout(timer);
  await db.collection(collection).drop();
  return { size, undo, written, seconds: elapsed, batchMs: batches ? latency / batches : 0 };
}

async function undoRecordMs(db: mongo.Db): Promise<number> {
  const log = new UndoLog(db, 'bench_undo');
  const def = fullNameMigration('bench_undo_target');
  const inputs = Array.from({ length: BATCH }, (_, i) => ({
    id: new mongo.ObjectId(),
    version: undefined,
    before: { firstName: `F${i}`, lastName: `L${i}` },
    diff: { set: { fullName: `F${i} L${i}`, _v: 2 }, unset: [] },
  }));
  await log.record(def, inputs);
  const started = performance.now();
  for (let i = 0; i < 20; i++) await log.record(def, inputs);
  const ms = (performance.now() - started) / 20;
  await db.collection('bench_undo').drop();
  return ms;
}

async function main(): Promise<void> {
  const server = await startTestMongo('bench');
  try {
    const info = await server.db.admin().command({ buildInfo: 1 });
    const engine = info['ferretdbVersion'] ? `FerretDB ${info['ferretdbVersion']} (SQLite)` : `MongoDB ${info['version']}`;
    console.log(`backfill throughput on ${engine}, batches of ${BATCH}, at most ${seconds}s per run`);
    const runs: Run[] = [];
    for (const size of sizes) {
      for (let round = 0; round < rounds; round++) {
        for (const undo of round % 2 ? [false, true] : [true, false]) {
          const run = await backfill(server.db, size, undo);
          runs.push(run);
          console.log(
            `  ${String(size).padStart(6)} docs  undo ${undo ? 'on ' : 'off'}  ${String(run.written).padStart(6)} written in ${run.seconds.toFixed(1)}s  ` +
              `= ${(run.written / run.seconds).toFixed(1)} docs/s  (${run.batchMs.toFixed(0)} ms per batch)`,
          );
        }
      }
    }
    console.log(`one undo record of ${BATCH} documents: ${(await undoRecordMs(server.db)).toFixed(1)} ms to insert`);
  } finally {
    await server.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
