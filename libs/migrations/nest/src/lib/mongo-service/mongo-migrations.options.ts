import type { MigrationRegistry } from '@zdm/migrations-core';
import { createMongoControlStore } from '@zdm/migrations-mongo';
import type { Connection } from 'mongoose';
import type { ReadRanges } from '../heartbeat/build-schemas.service';
import type { MigrationsModuleOptions } from '../migrations.options';
import type { MongoServiceConfig } from './mongo-service.config';

/** Who the service is to the migration module. */
export interface MongoServiceMigrations {
  /** The service, as its migrations name it. */
  service: string;
  /** The migrations this build knows. */
  registry: MigrationRegistry;
  /** Versions this build reads, per collection. */
  targets: ReadRanges;
  /** The API version this build serves, as its schema endpoint reports it (e.g. `1.1.0`). */
  apiVersion?: string;
}

/**
 * Options of the migration module from the config of {@link mongoServiceConfig}: heartbeats, flags
 * (Unleash), read-compatibility readiness, with the control store in the service's database.
 */
export function mongoMigrationsOptions(config: MongoServiceConfig, connection: Connection, service: MongoServiceMigrations): MigrationsModuleOptions {
  const { UNLEASH_URL: url, UNLEASH_CLIENT_TOKEN: token } = config;
  if (url && !token) throw new Error('UNLEASH_URL is set, so UNLEASH_CLIENT_TOKEN must be set too');
  const db = connection.db;
  if (!db) throw new Error('the MongoDB connection is not open');
  return {
    ...service,
    build: config.BUILD,
    controlStore: () => createMongoControlStore(db),
    unleash: url && token ? { url, token, refreshIntervalMs: config.UNLEASH_REFRESH_MS } : undefined,
    instanceId: config.INSTANCE_ID,
    heartbeat: { intervalMs: config.HEARTBEAT_INTERVAL_MS },
  };
}
