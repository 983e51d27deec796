/**
 * One zdm backfill in its own process, so its peak RSS is its own: `runMongoJob` over the bench
 * collection with the mongo adapter's defaults (undo log on, claims where updates are not atomic,
 * 40 statements per command). Started by spawnZdmChild with its options as JSON in argv[2];
 * prints one JSON line (ZdmChildResult) when the run ends. SIGTERM stops it between batches.
 */
import { runMongoJob } from '@zdm/migrations-mongo';
import { CHILD_RUNNING, CHILD_WRITING, ZdmChildOptions, ZdmChildResult, fullNameMigration, resetPeakRss, round, rssMb } from './bench-common.util';

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '') as ZdmChildOptions;
  const def = fullNameMigration(options.collection);
  const stop = new AbortController();
  process.on('SIGTERM', () => stop.abort());
  const timer = options.seconds > 0 ? setTimeout(() => stop.abort(), options.seconds * 1000) : undefined;
  const sizes = options.batch ? { initialBatchSize: options.batch, minBatchSize: options.batch, maxBatchSize: options.batch } : {};
  const startupPeakRssMb = rssMb('self');
  const peakReset = resetPeakRss();
  const loadedRssMb = rssMb('self', 'VmRSS');
  console.log(CHILD_RUNNING);
  const rssTrace: [number, number][] = [];
  let nextTraceAt = performance.now();
  let latency = 0;
  let firstBatchAt = 0;
  const started = performance.now();
  const result = await runMongoJob({
    url: options.url,
    dbName: options.dbName,
    migrations: [def],
    migrationId: def.id,
    job: 'backfill',
    throttle: { ...sizes, ...options.throttle },
    signal: stop.signal,
    backend: { undoLog: options.undoLog ?? true },
    onBatch: (e) => {
      latency += e.latencyMs;
      if (!firstBatchAt) {
        firstBatchAt = performance.now() - e.latencyMs;
        console.log(CHILD_WRITING);
      }
      if (performance.now() >= nextTraceAt) {
        rssTrace.push([e.progress.done, round(rssMb('self', 'VmRSS'), 1)]);
        nextTraceAt += 10_000;
      }
    },
  });
  const seconds = (performance.now() - started) / 1000;
  clearTimeout(timer);
  const { checkpoint } = result;
  const report: ZdmChildResult = {
    status: result.status,
    written: checkpoint.written,
    processed: checkpoint.processed,
    conflicts: checkpoint.conflicts,
    quarantined: checkpoint.quarantined,
    batches: checkpoint.batches,
    seconds: round(seconds, 3),
    firstBatchAfterSeconds: round((firstBatchAt - started) / 1000, 3),
    meanBatchMs: round(checkpoint.batches ? latency / checkpoint.batches : 0, 1),
    peakRssMb: round(rssMb('self'), 1),
    loadedRssMb: round(loadedRssMb, 1),
    startupPeakRssMb: round(startupPeakRssMb, 1),
    peakReset,
    rssTrace,
    memoryAtEndMb: Object.fromEntries(Object.entries(process.memoryUsage()).map(([k, v]) => [k, round(v / 2 ** 20, 1)])),
  };
  console.log(JSON.stringify(report));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
