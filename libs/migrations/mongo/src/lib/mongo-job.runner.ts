import {
  BatchEvent,
  MigrationDefinition,
  MigrationRegistry,
  Migrator,
  Orchestrator,
  OrchestratorListener,
  PhaseJob,
  RunResult,
  ThrottleOptions,
} from '@zdm/migrations-core';
import { mongo } from 'mongoose';
import { MongoBackendOptions, createMongoBackend } from './mongo.backend';

/** Options for {@link runMongoJob}. */
export interface RunMongoJobOptions {
  /** MongoDB connection string, e.g. `mongodb://127.0.0.1:27017/`. */
  url: string;
  /** Database holding the collection and the control store. */
  dbName: string;
  /** The migrations this runner knows (validated into a registry), or a registry. */
  migrations: readonly MigrationDefinition[] | MigrationRegistry;
  /** The migration to work on. */
  migrationId: string;
  /** The job to run; the orchestrator refuses it outside its phases. Default `backfill`. */
  job?: PhaseJob;
  throttle?: ThrottleOptions;
  /** Lease lifetime in ms. Default 15000. */
  leaseTtlMs?: number;
  /** Runner identity for the lease and the audit log. Default `host:pid`. */
  owner?: string;
  /** Called after every batch. */
  onBatch?: (event: BatchEvent) => void;
  /** Called for the orchestrator's other events (`job-start`, `paused`, `resumed`...). */
  onEvent?: OrchestratorListener['event'];
  /** Stops the run between batches (status `stopped`), leaving the checkpoint for a resume. */
  signal?: AbortSignal;
  /** Adapter options other than the database and the registry. */
  backend?: Omit<MongoBackendOptions, 'db' | 'registry'>;
}

/**
 * Connects, runs one job of one migration through the {@link Orchestrator} (which refuses a job
 * outside its phases, or while an operator paused or aborted the migration, with an
 * `OrchestrationError`) under its lease, resuming from its checkpoint, and disconnects. Small
 * enough to be the whole body of a child process that a test may SIGKILL.
 */
export async function runMongoJob(options: RunMongoJobOptions): Promise<RunResult> {
  const registry = options.migrations instanceof MigrationRegistry ? options.migrations : MigrationRegistry.create(options.migrations);
  const client = new mongo.MongoClient(options.url);
  await client.connect();
  try {
    const migrator = new Migrator({
      registry,
      backend: createMongoBackend({ ...options.backend, db: client.db(options.dbName), registry }),
      throttle: options.throttle,
      leaseTtlMs: options.leaseTtlMs,
      owner: options.owner,
    });
    const job = options.job ?? 'backfill';
    const listener: OrchestratorListener = { event: options.onEvent ?? (() => undefined), progress: (_job, _id, e) => options.onBatch?.(e) };
    const orchestrator = new Orchestrator({ migrator, who: { actor: migrator.owner, reason: `${job} job` }, signal: options.signal, listener });
    const { result } = await orchestrator.startJob(options.migrationId, job);
    // startJob resolves null only for a job that had nothing to run; a data job always reports its run.
    if (!result) throw new Error(`${options.migrationId} ${job}: the runner reported no result`);
    return result;
  } finally {
    await client.close();
  }
}
