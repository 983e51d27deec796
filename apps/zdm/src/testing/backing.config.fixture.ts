import Redis from 'ioredis';
import mongoose from 'mongoose';
import * as mongoAdapter from '@zdm/migrations-mongo';
import { createRedisBackend } from '@zdm/migrations-redis';
import { MigrationBackend, MigrationDefinition, MigrationRegistry } from '@zdm/migrations-core';
import { ZdmConfig } from '../config';
import { ConfigError } from '../lib/exit-codes';
import { fullName } from './zdm.config.fixture';

/** Which real store the CLI's integration test runs on. */
export type Backing = 'mongo' | 'redis';

type Db = NonNullable<mongoose.Connection['db']>;

/** The mongo adapter's factory, read at run time so this file compiles before `@zdm/migrations-mongo` exports it. */
export const createMongoBackend = (mongoAdapter as unknown as Record<string, unknown>)['createMongoBackend'] as
  | ((options: { db: Db; registry?: MigrationRegistry }) => MigrationBackend)
  | undefined;

/** customers.full-name over the `customers` collection, or over `<ZDM_REDIS_PREFIX>customer:*` JSON values. */
export function migrationFor(backing: Backing, env: NodeJS.ProcessEnv = process.env): MigrationDefinition {
  const def = fullName;
  return backing === 'mongo' ? def : { ...def, target: { kind: 'redis', keyPattern: `${env['ZDM_REDIS_PREFIX']}customer:*`, versioning: 'value' } };
}

/** A connected backing store, plus what a test needs to seed it and look at it. */
export interface BackingConnection {
  backend: MigrationBackend;
  close(): Promise<void>;
  /** Inserts `count` v1 customers. */
  seed(count: number): Promise<void>;
  /** Everything the suite owns (data and control records), as comparable JSON. */
  snapshot(): Promise<unknown>;
  /** How many customers are at v2 with the right fullName. */
  migrated(): Promise<number>;
  /** Removes everything the suite owns. */
  drop(): Promise<void>;
}

const need = (env: NodeJS.ProcessEnv, ...names: string[]) => {
  const missing = names.filter((n) => !env[n]);
  if (missing.length) throw new ConfigError(`set ${missing.join(', ')}`);
  return names.map((n) => env[n] as string);
};
const rightName = (d: Record<string, unknown>) => d['_v'] === 2 && d['fullName'] === `${d['firstName']} ${d['lastName']}`;

async function connectMongo(env: NodeJS.ProcessEnv): Promise<BackingConnection> {
  const [url, dbName] = need(env, 'MONGO_URL', 'ZDM_MONGO_DB');
  if (!createMongoBackend) throw new ConfigError('@zdm/migrations-mongo does not export createMongoBackend yet');
  const conn = await mongoose.createConnection(url, { dbName }).asPromise();
  const db = conn.db as Db;
  const customers = db.collection('customers');
  return {
    backend: createMongoBackend({ db, registry: new MigrationRegistry([migrationFor('mongo', env)]) }),
    close: () => conn.close(),
    seed: async (count) => void (await customers.insertMany(Array.from({ length: count }, (_, i) => ({ firstName: `F${i}`, lastName: `L${i}` })))),
    snapshot: async () => {
      const names = (await db.listCollections().toArray()).map((c) => c.name).sort();
      const all: Record<string, unknown> = {};
      for (const name of names) all[name] = JSON.parse(JSON.stringify(await db.collection(name).find().sort({ _id: 1 }).toArray()));
      return all;
    },
    migrated: async () => (await customers.find().toArray()).filter(rightName).length,
    drop: async () => void (await db.dropDatabase()),
  };
}

async function connectRedis(env: NodeJS.ProcessEnv): Promise<BackingConnection> {
  const [url, prefix] = need(env, 'REDIS_URL', 'ZDM_REDIS_PREFIX');
  const redis = new Redis(url, { maxRetriesPerRequest: 2 });
  const keys = async () => {
    const found: string[] = [];
    let cursor = '0';
    do {
      const [next, page] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      found.push(...page);
    } while (cursor !== '0');
    return found.sort();
  };
  const customerKeys = async () => (await keys()).filter((k) => k.startsWith(`${prefix}customer:`));
  return {
    backend: createRedisBackend({ redis, controlPrefix: `${prefix}zdm:` }),
    close: async () => void (await redis.quit()),
    seed: async (count) => {
      const batch = redis.pipeline();
      for (let i = 0; i < count; i++) batch.set(`${prefix}customer:${String(i).padStart(6, '0')}`, JSON.stringify({ firstName: `F${i}`, lastName: `L${i}` }), 'EX', 3600);
      await batch.exec();
    },
    snapshot: async () => {
      const all: Record<string, { dump: string | null; expires: boolean }> = {};
      for (const key of await keys()) all[key] = { dump: (await redis.dumpBuffer(key))?.toString('hex') ?? null, expires: (await redis.pttl(key)) > 0 };
      return all;
    },
    migrated: async () => {
      const list = await customerKeys();
      const values = list.length ? await redis.mget(list) : [];
      return values.filter((v) => v && rightName(JSON.parse(v))).length;
    },
    drop: async () => {
      const list = await keys();
      if (list.length) await redis.del(...list);
    },
  };
}

/** Connects to the backing store named `backing`, configured from the environment. */
export function connectBacking(backing: Backing, env: NodeJS.ProcessEnv = process.env): Promise<BackingConnection> {
  return backing === 'mongo' ? connectMongo(env) : connectRedis(env);
}

/** The config a `zdm` child process loads: `ZDM_BACKING` says which store, the rest comes from the environment. */
export default function backingConfig(): ZdmConfig {
  const backing = (process.env['ZDM_BACKING'] ?? 'mongo') as Backing;
  return {
    service: 'customers',
    migrations: [migrationFor(backing)],
    throttle: { initialBatchSize: 250, maxBatchSize: 1000 },
    connect: async () => {
      const { backend, close } = await connectBacking(backing);
      return { backend, close };
    },
  };
}
