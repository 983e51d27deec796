import { ControlStore, HttpServiceSchemas, MigrationBackend, MigrationDefinition, MigrationRegistry, ZdmConfig, ZdmConnection, defineConfig, routeByTargetKind } from '@zdm/migrations-core';
import { createMongoBackend } from '@zdm/migrations-mongo';
import mongoose, { mongo } from 'mongoose';
import { UnleashFlagAdmin } from '../flags/unleash-admin.client';

/** A service that keeps its data and control store in one MongoDB database, as the `zdm` CLI sees it. */
export interface MongoZdmService {
  /** The service; also the default database name. */
  service: string;
  /** Every migration the service's build registers, in order. */
  migrations: readonly MigrationDefinition[];
  /** The validated registry of `migrations`. */
  registry: MigrationRegistry;
  /**
   * Base URLs of the services whose migrations these migrations require (`requires`), from `env`;
   * their schema endpoints answer the gates. A service without a URL holds its gates, saying so.
   */
  schemaUrls?: (env: NodeJS.ProcessEnv) => Record<string, string>;
  /**
   * The service's other stores holding migrated data (e.g. sessions in Redis), opened from `env`:
   * a backend per target kind, each built over `store` (the control store in MongoDB), and how to
   * close them. Migrations then go to the backend of their target's kind.
   */
  otherStores?: (env: NodeJS.ProcessEnv, store: ControlStore) => Promise<{ backends: Record<string, MigrationBackend>; close(): Promise<void> }>;
}

/**
 * The `zdm` CLI's view of a MongoDB service. `connect(env)` opens the service's database (data and
 * control store) from `MONGO_URL` (required) and `MONGO_DB` (default: the service), and Unleash's
 * Admin API from `UNLEASH_URL` + `UNLEASH_ADMIN_TOKEN` (without them phase changes only record the
 * flags in the audit log). A missing variable is named, never defaulted to somewhere.
 */
export function mongoZdmConfig({ service, migrations, registry, schemaUrls, otherStores }: MongoZdmService): { config: ZdmConfig; connect(env?: NodeJS.ProcessEnv): Promise<ZdmConnection> } {
  const required = (name: string, env: NodeJS.ProcessEnv): string => {
    const value = env[name]?.trim();
    if (!value) throw new Error(`${name} is required by the ${service} zdm config`);
    return value;
  };
  const connect = async (env: NodeJS.ProcessEnv = process.env): Promise<ZdmConnection> => {
    const url = required('MONGO_URL', env);
    const unleashUrl = env['UNLEASH_URL']?.trim();
    const flags = unleashUrl ? new UnleashFlagAdmin({ url: unleashUrl, token: required('UNLEASH_ADMIN_TOKEN', env) }) : undefined;
    const connection = await mongoose.createConnection(url, { dbName: env['MONGO_DB']?.trim() || service, serverSelectionTimeoutMS: 5_000 }).asPromise();
    const mongoBackend = createMongoBackend({ db: connection.db as mongo.Db, registry });
    const others = await otherStores?.(env, mongoBackend.store).catch(async (err: unknown) => {
      await connection.close();
      throw err;
    });
    return {
      backend: others ? routeByTargetKind(mongoBackend.store, { ...others.backends, mongo: mongoBackend }) : mongoBackend,
      flags,
      schemas: schemaUrls ? new HttpServiceSchemas({ urls: schemaUrls(env) }) : undefined,
      close: async () => {
        await others?.close();
        await connection.close();
      },
    };
  };
  return { config: defineConfig({ service, migrations, connect: () => connect() }), connect };
}
