import { localMongoServer, mongoServerName, startMongo } from '@zdm/dev-services';
import { randomBytes } from 'node:crypto';
import { mongo } from 'mongoose';
import { hasAtomicUpdates } from '../lib/document.claims';

/**
 * A MongoDB-compatible server for one suite, from @zdm/dev-services: `MONGO_URL` when set, otherwise
 * a local FerretDB (SQLite), or mongo-java-server with `ZDM_MONGO_SERVER=atomic`.
 */
export interface TestMongo {
  url: string;
  /** A database name of this suite's own. */
  dbName: string;
  /** A driver client, connected; closed by `stop()`. */
  client: mongo.MongoClient;
  db: mongo.Db;
  /** Drops the suite's database, closes the client and stops the server this fixture started. */
  stop(): Promise<void>;
}

/**
 * `onFerretDb`, or `onAtomic` under `ZDM_MONGO_SERVER=atomic`: mongo-java-server scans the whole
 * collection for every filter but a bare `_id`, so suites keep its data sets in the low thousands.
 */
export function sizeFor<T>(onFerretDb: T, onAtomic: T): T {
  return localMongoServer() === 'atomic' ? onAtomic : onFerretDb;
}

/** Starts (or finds) the server and connects; call from `beforeAll`. */
export async function startTestMongo(suite: string): Promise<TestMongo> {
  const dbName = `zdm_${suite.replace(/[^a-z0-9]+/gi, '_').slice(0, 30)}_${randomBytes(4).toString('hex')}`;
  // MONGO_URL, else a container, else a local FerretDB (with its _id lookups indexed).
  const local = await startMongo();
  const url = local.url;
  const client = new mongo.MongoClient(url);
  await client.connect();
  const db = client.db(dbName);
  // The log says which server and which write path (compare-and-set or claims) each suite ran against.
  const name = mongoServerName(await db.admin().command({ buildInfo: 1 }));
  console.info(`mongo server: ${name} (${(await hasAtomicUpdates(db)) ? 'atomic' : 'claims'}) [${suite}]`);
  return {
    url,
    dbName,
    client,
    db,
    async stop() {
      await db.dropDatabase().catch(() => undefined);
      await client.close();
      await local.stop();
    },
  };
}

/** `startTestMongo` in `beforeAll` and `stop` in `afterAll`; read the fields inside tests. */
export function useTestMongo(suite: string): TestMongo {
  let started: TestMongo | undefined;
  beforeAll(async () => {
    started = await startTestMongo(suite);
  }, 60_000);
  afterAll(async () => {
    await started?.stop();
  }, 60_000);
  const get = () => {
    if (!started) throw new Error('the test server is not started yet; use it inside tests or hooks');
    return started;
  };
  return {
    get url() {
      return get().url;
    },
    get dbName() {
      return get().dbName;
    },
    get client() {
      return get().client;
    },
    get db() {
      return get().db;
    },
    stop: () => get().stop(),
  };
}

/** `value`, or a failed test saying what was missing. */
export function present<T>(value: T, what = 'a value'): NonNullable<T> {
  if (value === null || value === undefined) throw new Error(`expected ${what}, got ${String(value)}`);
  return value;
}
