/**
 * bench:read, on N v1 customers (default 50000):
 * 1. findById latency (hydrated mongoose documents) through a plain model and through a model with
 *    versionedPlugin, which upcasts each v1 document to v2 in memory. Plain and upcast samples
 *    alternate (ABBA order), so a change in machine load hits both alike.
 * 2. p99 of a concurrent findById load (the upcast model, `--readers` loops) in three conditions:
 *    no backfill, a zdm backfill running unthrottled, and one running throttled (both in a child
 *    process, as a runner would be). Conditions take turns over `--rounds` rounds and their samples
 *    are pooled; the backfill resumes from its checkpoint each time.
 * Ends with one JSON line on stdout, also written to bench/results/read.json.
 */
import { MigrationRegistry } from '@zdm/migrations-core';
import { versionedPlugin } from '@zdm/migrations-mongo';
import mongoose, { Schema } from 'mongoose';
import os from 'node:os';
import {
  BenchStore,
  environment,
  fullNameMigration,
  log,
  openStore,
  parseArgs,
  percentile,
  round,
  seedCustomers,
  spawnZdmChild,
  writeResult,
} from './bench-common.util';

const USAGE = `usage: npm run bench:read -- [--docs 50000] [--samples 3000] [--readers 4] [--load-seconds 15] [--rounds 2] [--throttled-target-ms 35]
  --docs          v1 documents in the collection
  --samples       findById samples per model (plain and upcast each)
  --readers       concurrent findById loops of the read load
  --load-seconds  length of each read-load window
  --rounds        rounds of the three load conditions
  --throttled-target-ms  the throttled backfill's batch-latency target`;

const opts = parseArgs({ docs: 50_000, samples: 3000, readers: 4, loadSeconds: 15, rounds: 2, throttledTargetMs: 35 }, USAGE);
const COLLECTION = 'bench_read';

/** Backfill settings of the load conditions: no pauses at all, or the throttle aiming at short batches. */
const UNTHROTTLED = { initialBatchSize: 40, minBatchSize: 40, maxBatchSize: 40, targetLatencyMs: 600_000 };
const THROTTLED = { initialBatchSize: 40, minBatchSize: 10, maxBatchSize: 40, targetLatencyMs: opts.throttledTargetMs, maxPauseMs: 2000 };
type Condition = 'none' | 'unthrottled' | 'throttled';

const FIELDS = { firstName: String, lastName: String, fullName: String, email: String, tags: [String], address: Schema.Types.Mixed, since: Date, note: Schema.Types.Mixed };

/** The plain model and the upcasting model over the same collection. */
function models(connection: mongoose.Connection) {
  const def = fullNameMigration(COLLECTION);
  const plainSchema = new Schema(FIELDS, { collection: COLLECTION, versionKey: false });
  const upcastSchema = new Schema(FIELDS, { collection: COLLECTION, versionKey: false });
  upcastSchema.plugin(versionedPlugin, { registry: MigrationRegistry.create([def]), collection: COLLECTION, readMin: 1, readMax: 2, writeVersion: () => 1 });
  return { plain: connection.model('Plain', plainSchema), upcast: connection.model('Upcast', upcastSchema) };
}

type Model = ReturnType<typeof models>['plain'];

const pick = <T>(list: readonly T[]): T => list[Math.floor(Math.random() * list.length)];

/** One findById in ms; checks the document came back in the shape the model promises. */
async function timedFind(model: Model, id: unknown, upcast: boolean): Promise<number> {
  const started = performance.now();
  const doc = await model.findById(id);
  const ms = performance.now() - started;
  const fullName = doc?.get('fullName') as unknown;
  if (!doc || (upcast && typeof fullName !== 'string') || (!upcast && doc.get('_v') === undefined && fullName !== undefined)) {
    throw new Error(`findById(${String(id)}) through the ${upcast ? 'upcast' : 'plain'} model returned ${JSON.stringify(doc)}`);
  }
  return ms;
}

/** Interleaved plain/upcast findById samples on the v1 documents. */
async function singleReads(m: ReturnType<typeof models>, ids: unknown[]): Promise<{ plain: number[]; upcast: number[] }> {
  for (let i = 0; i < 200; i++) {
    await timedFind(m.plain, pick(ids), false);
    await timedFind(m.upcast, pick(ids), true);
  }
  const plain: number[] = [];
  const upcast: number[] = [];
  for (let i = 0; i < opts.samples; i++) {
    const plainFirst = i % 4 === 0 || i % 4 === 3;
    for (const which of plainFirst ? ['plain', 'upcast'] : ['upcast', 'plain']) {
      if (which === 'plain') plain.push(await timedFind(m.plain, pick(ids), false));
      else upcast.push(await timedFind(m.upcast, pick(ids), true));
    }
  }
  return { plain, upcast };
}

/** `--readers` loops of findById through the upcast model for `--load-seconds`; every latency in ms. */
async function readLoad(model: Model, ids: unknown[]): Promise<number[]> {
  const until = performance.now() + opts.loadSeconds * 1000;
  const samples: number[] = [];
  await Promise.all(
    Array.from({ length: opts.readers }, async () => {
      while (performance.now() < until) samples.push(await timedFind(model, pick(ids), true));
    }),
  );
  return samples;
}

interface ConditionRun {
  latencies: number[];
  seconds: number;
  backfillWritten: number;
  backfillSeconds: number;
  loadAvg1m: number[];
}

async function loadUnder(store: BenchStore, model: Model, ids: unknown[], condition: Condition, writtenBefore: number): Promise<ConditionRun & { writtenAfter: number }> {
  const loadAvg1m = [round(os.loadavg()[0])];
  if (condition === 'none') {
    const started = performance.now();
    const latencies = await readLoad(model, ids);
    return { latencies, seconds: (performance.now() - started) / 1000, backfillWritten: 0, backfillSeconds: 0, loadAvg1m: [...loadAvg1m, round(os.loadavg()[0])], writtenAfter: writtenBefore };
  }
  const child = spawnZdmChild({
    url: store.service.url,
    dbName: store.dbName,
    collection: COLLECTION,
    batch: null,
    throttle: condition === 'throttled' ? THROTTLED : UNTHROTTLED,
    seconds: 0,
  });
  await child.writing;
  const started = performance.now();
  const latencies = await readLoad(model, ids);
  const seconds = (performance.now() - started) / 1000;
  child.stop();
  const result = await child.result;
  if (result.status !== 'stopped') throw new Error(`the ${condition} backfill ended ${result.status} before the read load did; use more --docs`);
  // The checkpoint counts across resumed runs; this run wrote the difference.
  return { latencies, seconds, backfillWritten: result.written - writtenBefore, backfillSeconds: result.seconds, loadAvg1m: [...loadAvg1m, round(os.loadavg()[0])], writtenAfter: result.written };
}

async function main(): Promise<void> {
  const store = await openStore('read');
  const connection = await mongoose.createConnection(store.service.url, { dbName: store.dbName }).asPromise();
  try {
    const env = environment(store);
    const collection = await seedCustomers(store, COLLECTION, opts.docs);
    const ids = (await collection.find({}, { projection: { _id: 1 } }).toArray()).map((d) => d['_id']);
    const m = models(connection);

    log(`single findById: ${opts.samples} samples per model, interleaved`);
    const single = await singleReads(m, ids);
    const readP50PlainMs = percentile(single.plain, 50);
    const readP50UpcastMs = percentile(single.upcast, 50);
    log(`p50 plain ${readP50PlainMs.toFixed(3)} ms, upcast ${readP50UpcastMs.toFixed(3)} ms`);

    const pooled: Record<Condition, ConditionRun> = {
      none: { latencies: [], seconds: 0, backfillWritten: 0, backfillSeconds: 0, loadAvg1m: [] },
      unthrottled: { latencies: [], seconds: 0, backfillWritten: 0, backfillSeconds: 0, loadAvg1m: [] },
      throttled: { latencies: [], seconds: 0, backfillWritten: 0, backfillSeconds: 0, loadAvg1m: [] },
    };
    let written = 0;
    for (let r = 0; r < opts.rounds; r++) {
      const order: Condition[] = r % 2 ? ['throttled', 'unthrottled', 'none'] : ['none', 'unthrottled', 'throttled'];
      for (const condition of order) {
        const run = await loadUnder(store, m.upcast, ids, condition, written);
        written = run.writtenAfter;
        const into = pooled[condition];
        into.latencies.push(...run.latencies);
        into.seconds += run.seconds;
        into.backfillWritten += run.backfillWritten;
        into.backfillSeconds += run.backfillSeconds;
        into.loadAvg1m.push(...run.loadAvg1m);
        log(`round ${r + 1} ${condition}: ${run.latencies.length} reads, p99 ${percentile(run.latencies, 99).toFixed(2)} ms; backfill wrote ${run.backfillWritten}`);
      }
    }

    const summary = (c: Condition) => {
      const run = pooled[c];
      return {
        reads: run.latencies.length,
        readsPerSec: round(run.latencies.length / run.seconds, 1),
        p50Ms: round(percentile(run.latencies, 50), 3),
        p99Ms: round(percentile(run.latencies, 99), 3),
        backfillDocsPerSec: run.backfillSeconds ? round(run.backfillWritten / run.seconds, 1) : 0,
        loadAvg1m: run.loadAvg1m,
      };
    };
    const conditions = { none: summary('none'), unthrottled: summary('unthrottled'), throttled: summary('throttled') };
    const upcastOverheadPct = round((readP50UpcastMs / readP50PlainMs - 1) * 100, 1);
    writeResult('read', {
      bench: 'read',
      ...env,
      docs: opts.docs,
      samplesPerModel: opts.samples,
      readers: opts.readers,
      loadSecondsPerWindow: opts.loadSeconds,
      rounds: opts.rounds,
      readP50PlainMs: round(readP50PlainMs, 3),
      readP50UpcastMs: round(readP50UpcastMs, 3),
      upcastOverheadPct,
      readP99PlainMs: round(percentile(single.plain, 99), 3),
      readP99UpcastMs: round(percentile(single.upcast, 99), 3),
      p99NoBackfillMs: conditions.none.p99Ms,
      p99UnthrottledMs: conditions.unthrottled.p99Ms,
      p99ThrottledMs: conditions.throttled.p99Ms,
      throttledVsNoBackfill: round(conditions.throttled.p99Ms / conditions.none.p99Ms, 2),
      conditions,
      backfillSettings: { unthrottled: UNTHROTTLED, throttled: THROTTLED },
      targets: {
        upcastOverheadAtMost5PctAtP50: upcastOverheadPct <= 5,
        throttledP99AtMost1_5xNoBackfill: conditions.throttled.p99Ms <= 1.5 * conditions.none.p99Ms,
      },
    });
  } finally {
    await connection.close();
    await store.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
