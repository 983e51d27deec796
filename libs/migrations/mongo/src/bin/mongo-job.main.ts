/**
 * Runs one job of one migration against MongoDB in its own process, so it can be killed
 * (SIGKILL), frozen (SIGSTOP) or stopped (SIGTERM: finishes the batch, keeps the checkpoint).
 *
 *   SWC_NODE_PROJECT=tsconfig.base.json node -r @swc-node/register libs/migrations/mongo/src/bin/mongo-job.main.ts \
 *     --url mongodb://127.0.0.1:27017/ --db shop --migrations path/to/migrations.ts --id customers.full-name \
 *     [--export migrations] [--job backfill] [--batch 200] [--lease-ms 15000] [--owner runner-1] [--no-undo]
 *     [--target-latency-ms 200] [--max-pause-ms 2000]
 *
 * The module exports the migration definitions as an array (`--export`, default `migrations`, or
 * `default`). Prints one JSON line per batch (`{"event":"batch",...}`) and one at the end
 * (`{"event":"result","status":...}`); exits 0 when the job is done, 3 when it stopped otherwise
 * (paused out, aborted, lease lost) or was refused (`"status":"refused"`: the job does not run in the
 * migration's phase, or an operator paused or aborted it; the rules are the orchestrator's, as for
 * `zdm start`), 1 on an error, 2 on bad arguments. Rollback jobs run through `zdm rollback` only.
 *
 * `--batch` fixes the batch size; `--target-latency-ms` is the batch latency the adaptive throttle
 * aims for, and `--max-pause-ms` caps its pause between batches (0: never pause).
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { MigrationDefinition, OrchestrationError, PHASE_JOBS, PhaseJob } from '@zdm/migrations-core';
import { runMongoJob } from '../lib/mongo-job.runner';

const JOBS: readonly string[] = PHASE_JOBS;
const print = (line: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(line)}\n`);

function fail(message: string, code: number): never {
  process.stderr.write(`mongo-job: ${message}\n`);
  process.exit(code);
}

function whole(name: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) fail(`--${name} must be a whole number >= ${min}, got "${value}"`, 2);
  return n;
}
const positive = (name: string, value: string | undefined) => whole(name, value, 1);

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      db: { type: 'string' },
      migrations: { type: 'string' },
      export: { type: 'string', default: 'migrations' },
      id: { type: 'string' },
      job: { type: 'string', default: 'backfill' },
      batch: { type: 'string' },
      'lease-ms': { type: 'string' },
      owner: { type: 'string' },
      'no-undo': { type: 'boolean', default: false },
      'target-latency-ms': { type: 'string' },
      'max-pause-ms': { type: 'string' },
    },
  });
  const missing = (['url', 'db', 'migrations', 'id'] as const).filter((k) => !values[k]);
  if (missing.length) fail(`missing ${missing.map((k) => `--${k}`).join(', ')}`, 2);
  const job = values.job as PhaseJob;
  if (!JOBS.includes(job)) fail(`--job must be one of ${JOBS.join(', ')}, got "${values.job}"`, 2);
  const loaded = (await import(resolve(values.migrations as string))) as Record<string, unknown>;
  const migrations = loaded[values.export as string] ?? loaded['default'];
  if (!Array.isArray(migrations)) fail(`${values.migrations} exports no array "${values.export}" of migration definitions`, 2);
  const batch = positive('batch', values.batch);
  const throttle = {
    ...(batch ? { initialBatchSize: batch, minBatchSize: batch, maxBatchSize: batch } : {}),
    targetLatencyMs: positive('target-latency-ms', values['target-latency-ms']),
    maxPauseMs: whole('max-pause-ms', values['max-pause-ms'], 0),
  };

  const stop = new AbortController();
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => stop.abort());
  const result = await runMongoJob({
    url: values.url as string,
    dbName: values.db as string,
    migrations: migrations as MigrationDefinition[],
    migrationId: values.id as string,
    job,
    throttle,
    leaseTtlMs: positive('lease-ms', values['lease-ms']),
    owner: values.owner,
    signal: stop.signal,
    backend: { undoLog: !values['no-undo'] },
    onBatch: (e) => print({ event: 'batch', batch: e.batch, read: e.read, written: e.written, skipped: e.skipped, conflicts: e.conflicts, quarantined: e.quarantined, latencyMs: e.latencyMs, done: e.progress.done, total: e.progress.total }),
  });
  print({ event: 'result', status: result.status, token: result.token, checkpoint: result.checkpoint });
  process.exitCode = result.status === 'done' ? 0 : 3;
}

main().catch((err: unknown) => {
  if (!(err instanceof OrchestrationError)) fail(err instanceof Error ? (err.stack ?? err.message) : String(err), 1);
  print({ event: 'result', status: 'refused', error: err.message, ...err.details });
  process.stderr.write(`mongo-job: ${err.message}\n`);
  process.exitCode = 3;
});
