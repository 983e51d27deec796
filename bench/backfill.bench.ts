/**
 * bench:backfill: the same v1 -> v2 migration (firstName + lastName -> fullName) over N fresh,
 * identical collections, by three methods in turn:
 *   zdm    the zdm runner at its defaults (runMongoJob backfill: adaptive throttle, undo log on,
 *          claims on FerretDB) in a child process whose peak RSS is sampled;
 *   naive  a cursor and one updateOne({_id}, {$set}) per document, like hand-written scripts;
 *   bulk   the same cursor and unconditional bulkWrite of the same $set in commands of 40 (the
 *          client-side upper bound; FerretDB 1.x hangs above ~100 statements per command).
 * Optionally (--rss-docs M) a separate zdm run over M documents measures only its peak RSS, and
 * (--undo-off 1) a fourth method, zdm-no-undo, the zdm runner with the undo log off: the cost of
 * keeping what a rollback before contract restores.
 * Ends with one JSON line on stdout, also written to bench/results/backfill.json.
 */
import { Doc } from '@zdm/migrations-core';
import { mongo } from 'mongoose';
import os from 'node:os';
import {
  BenchStore,
  ZdmChildResult,
  environment,
  fullNameMigration,
  log,
  openStore,
  parseArgs,
  round,
  seedCustomers,
  spawnZdmChild,
  ZDM_CHILD_NODE_FLAGS,
  writeResult,
} from './bench-common.util';

const USAGE = `usage: npm run bench:backfill -- [--docs 200000] [--seconds 0] [--batch 0] [--undo-off 0] [--rss-docs 0] [--rss-seconds 0]
  --docs         v1 documents per method
  --seconds      time box per method (0: every method runs to the end)
  --batch        fixed zdm batch size (0: the throttle's own sizes, 500 first, then 50..2000 by latency)
  --undo-off     1: also run zdm with the undo log off (method zdm-no-undo, after the others)
  --rss-docs     documents of the extra zdm run that only measures peak RSS (0: no such run)
  --rss-seconds  time box of that run (0: to the end)`;

const opts = parseArgs({ docs: 200_000, seconds: 0, batch: 0, undoOff: 0, rssDocs: 0, rssSeconds: 0 }, USAGE);
const BULK_CHUNK = 40;

/** One method's run: documents written, wall seconds, and whether the time box ended it. */
interface MethodRun {
  written: number;
  seconds: number;
  docsPerSec: number;
  timeBoxed: boolean;
  /** 1-minute load average before and after the method ran (other work on the machine shows here). */
  loadAvg1m?: number[];
}

const methodRun = (written: number, seconds: number, timeBoxed: boolean): MethodRun => ({ written, seconds: round(seconds, 1), docsPerSec: round(written / seconds, 1), timeBoxed });

/** The `$set` every method writes for one v1 document: what `up()` adds, and `_v: 2`. */
function changeOf(up: (doc: Doc) => Doc, raw: Doc): Doc {
  const next = up(raw);
  return { fullName: next['fullName'], _v: 2 };
}

/** The seeded documents' `_id`s are ObjectIds (insertMany generated them). */
const idOf = (raw: Doc) => raw['_id'] as mongo.ObjectId;

/** Walks the v1 documents with one cursor and hands them to `write` in groups of `group`. */
async function walk(collection: mongo.Collection, seconds: number, group: number, write: (docs: Doc[]) => Promise<void>): Promise<MethodRun> {
  const deadline = seconds > 0 ? performance.now() + seconds * 1000 : Infinity;
  const cursor = collection.find({ fullName: { $exists: false } }, { batchSize: 1000 });
  let written = 0;
  let pending: Doc[] = [];
  const started = performance.now();
  let timeBoxed = false;
  for await (const raw of cursor) {
    pending.push(raw);
    if (pending.length < group) continue;
    await write(pending);
    written += pending.length;
    pending = [];
    if (performance.now() > deadline) {
      timeBoxed = true;
      break;
    }
  }
  if (!timeBoxed && pending.length) {
    await write(pending);
    written += pending.length;
  }
  await cursor.close();
  return methodRun(written, (performance.now() - started) / 1000, timeBoxed);
}

async function naive(collection: mongo.Collection, up: (doc: Doc) => Doc): Promise<MethodRun> {
  return walk(collection, opts.seconds, 1, async ([raw]) => {
    await collection.updateOne({ _id: idOf(raw) }, { $set: changeOf(up, raw) });
  });
}

async function bulk(collection: mongo.Collection, up: (doc: Doc) => Doc): Promise<MethodRun> {
  return walk(collection, opts.seconds, BULK_CHUNK, async (raws) => {
    await collection.bulkWrite(
      raws.map((raw) => ({ updateOne: { filter: { _id: idOf(raw) }, update: { $set: changeOf(up, raw) } } })),
      { ordered: false },
    );
  });
}

async function zdm(store: BenchStore, collection: string, seconds: number, undoLog = true): Promise<{ run: MethodRun; child: ZdmChildResult & { sampledPeakRssMb: number } }> {
  const child = await spawnZdmChild({ url: store.service.url, dbName: store.dbName, collection, batch: opts.batch || null, seconds, undoLog }).result;
  if (child.status !== 'done' && child.status !== 'stopped') throw new Error(`the zdm run ended ${child.status}`);
  return { run: methodRun(child.written, child.seconds, child.status === 'stopped'), child };
}

/** Counts the documents a method migrated (FerretDB scans the table for this; it is not timed). */
async function migrated(collection: mongo.Collection): Promise<number> {
  return collection.countDocuments({ _v: 2, fullName: { $exists: true } });
}

async function main(): Promise<void> {
  const store = await openStore('backfill');
  try {
    const env = environment(store);
    log(`store: ${store.description}; ${opts.docs} documents per method${opts.seconds ? `, at most ${opts.seconds} s each` : ''}; zdm batch ${opts.batch || 'adaptive (throttle defaults)'}`);
    const runs: Record<string, MethodRun> = {};
    const checks: Record<string, number> = {};
    let zdmChild: (ZdmChildResult & { sampledPeakRssMb: number }) | undefined;

    const methods = ['zdm', 'bulk', 'naive', ...(opts.undoOff ? (['zdm-no-undo'] as const) : [])] as const;
    for (const method of methods) {
      const name = `bench_${method.replace(/-/g, '_')}`;
      const collection = await seedCustomers(store, name, opts.docs);
      const { up } = fullNameMigration(name);
      const loadBefore = round(os.loadavg()[0]);
      if (method === 'zdm') {
        const { run, child } = await zdm(store, name, opts.seconds);
        runs[method] = run;
        zdmChild = child;
      } else if (method === 'zdm-no-undo') runs[method] = (await zdm(store, name, opts.seconds, false)).run;
      else runs[method] = method === 'naive' ? await naive(collection, up) : await bulk(collection, up);
      runs[method].loadAvg1m = [loadBefore, round(os.loadavg()[0])];
      checks[method] = await migrated(collection);
      log(`${method}: ${runs[method].written} written in ${runs[method].seconds} s = ${runs[method].docsPerSec} docs/s${runs[method].timeBoxed ? ' (time-boxed)' : ''}; ${checks[method]} at v2 with fullName`);
      if (checks[method] < runs[method].written) throw new Error(`${method} reports ${runs[method].written} written but only ${checks[method]} documents are at v2`);
      await collection.drop();
      await store.db.collection('zdm_undo').drop().catch(() => undefined);
    }

    let rss: Doc | null = null;
    if (opts.rssDocs > 0) {
      const name = 'bench_zdm_rss';
      const collection = await seedCustomers(store, name, opts.rssDocs);
      const { run, child } = await zdm(store, name, opts.rssSeconds);
      rss = { docs: opts.rssDocs, written: run.written, seconds: run.seconds, timeBoxed: run.timeBoxed, peakRssMb: Math.max(child.peakRssMb, child.sampledPeakRssMb), loadedRssMb: child.loadedRssMb, rssTrace: child.rssTrace };
      log(`rss run: ${run.written} of ${opts.rssDocs} written in ${run.seconds} s, peak RSS ${rss['peakRssMb']} MB`);
      await collection.drop();
    }

    const { zdm: z, naive: n, bulk: b } = runs;
    const noUndo = runs['zdm-no-undo'];
    const child = zdmChild as ZdmChildResult & { sampledPeakRssMb: number };
    const zdmPeakRssMb = Math.max(child.peakRssMb, child.sampledPeakRssMb);
    writeResult('backfill', {
      bench: 'backfill',
      ...env,
      docs: opts.docs,
      order: methods,
      zdmBatchSize: opts.batch || null,
      zdmSettings: `runMongoJob backfill at the adapter's defaults: lease 15 s; throttle defaults (targetLatencyMs 200, maxPauseMs 2000, ${opts.batch ? `batch fixed at ${opts.batch}` : 'batch 500 first, then 50..2000'}); undo log on; claims (FerretDB) per batch until another writer is met, then in groups of 40; 40 statements per command; node ${ZDM_CHILD_NODE_FLAGS.join(' ')}`,
      bulkChunk: BULK_CHUNK,
      zdmDocsPerSec: z.docsPerSec,
      naiveDocsPerSec: n.docsPerSec,
      bulkDocsPerSec: b.docsPerSec,
      zdmPeakRssMb,
      zdmVsBulk: round(z.docsPerSec / b.docsPerSec, 3),
      zdmVsNaive: round(z.docsPerSec / n.docsPerSec, 3),
      zdmNoUndoDocsPerSec: noUndo ? noUndo.docsPerSec : null,
      zdmVsNoUndo: noUndo ? round(z.docsPerSec / noUndo.docsPerSec, 3) : null,
      timeBoxedMethods: Object.entries(runs).filter(([, r]) => r.timeBoxed).map(([m]) => m),
      runs,
      zdmDetail: { ...child, peakRssMb: undefined, sampledPeakRssMb: undefined },
      rss,
      targets: {
        zdmAtLeast75PctOfBulk: z.docsPerSec >= 0.75 * b.docsPerSec,
        zdmAtLeast5xNaive: z.docsPerSec >= 5 * n.docsPerSec,
        peakRssUnder250MbAt1M: rss && rss['docs'] === 1_000_000 && !rss['timeBoxed'] ? (rss['peakRssMb'] as number) < 250 : null,
      },
    });
  } finally {
    await store.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
