import {
  BatchEvent,
  JobKind,
  MigrationDefinition,
  MigrationRegistry,
  Migrator,
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
  /** The job to run. Default `backfill`. */
  job?: JobKind;
  throttle?: ThrottleOptions;
  /** Lease lifetime in ms. Default 15000. */
  leaseTtlMs?: number;
  /** Runner identity for the lease and the audit log. Default `host:pid`. */
  owner?: string;
  /** Called after every batch. */
  onBatch?: (event: BatchEvent) => void;
  /** Stops the run between batches (status `stopped`), leaving the checkpoint for a resume. */
  signal?: AbortSignal;
  /** Adapter options other than the database and the registry. */
  backend?: Omit<MongoBackendOptions, 'db' | 'registry'>;
}

/**
 * Connects, runs one job of one migration under its lease (resuming from its checkpoint), and
 * disconnects. Small enough to be the whole body of a child process that a test may SIGKILL.
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
    return await migrator.run(options.migrationId, options.job ?? 'backfill', { onBatch: options.onBatch, signal: options.signal });
  } finally {
    await client.close();
  }
}
