import { homedir } from 'node:os';
import path from 'node:path';
import { containerStrategy, envUrlStrategy, localServerStrategy } from './common-strategies';
import { keepFerretDbIdsIndexed } from './ferretdb-id-index';
import { findExecutable, goBinDirs } from './local-process';
import { handle, resolveService, type Strategy } from './resolve';
import type { MongoService, StartOptions } from './types';

export const FERRETDB_VERSION = 'v1.24.2';
export const MONGO_JAVA_SERVER_VERSION = '1.47.0';

/**
 * The local MongoDB-compatible process, chosen with ZDM_MONGO_SERVER:
 * - `ferretdb` (default): FerretDB on SQLite, whose updates match and write in separate steps,
 *   so the library takes per-document claims there;
 * - `atomic`: mongo-java-server in memory, whose updates are atomic as MongoDB's are, so the
 *   library compare-and-sets. It scans for any filter but a bare `_id`: keep data sets small.
 */
export type LocalMongoServer = 'ferretdb' | 'atomic';
export const LOCAL_MONGO_SERVERS: readonly LocalMongoServer[] = ['ferretdb', 'atomic'];

export function localMongoServer(): LocalMongoServer {
  const chosen = process.env.ZDM_MONGO_SERVER || 'ferretdb';
  if (!LOCAL_MONGO_SERVERS.includes(chosen as LocalMongoServer)) {
    throw new Error(`ZDM_MONGO_SERVER=${chosen}: use one of ${LOCAL_MONGO_SERVERS.join(', ')}`);
  }
  return chosen as LocalMongoServer;
}

/** Where tools/setup.sh puts the mongo-java-server launcher (XDG cache dir). */
export function mongoJavaServerDir(): string {
  const cache = process.env.XDG_CACHE_HOME || path.join(homedir(), '.cache');
  return path.join(cache, 'zdm', `mongo-java-server-${MONGO_JAVA_SERVER_VERSION}`, 'bin');
}

/**
 * The server's name and version from its `buildInfo` answer: `FerretDB 1.24.2`,
 * `mongo-java-server 1.47.0` (its launcher adds `mongoJavaServerVersion`) or `MongoDB 8.0.4`.
 */
export function mongoServerName(buildInfo: Record<string, unknown>): string {
  const plain = (v: unknown) => String(v).replace(/^v/, '');
  if (buildInfo['ferretdbVersion']) return `FerretDB ${plain(buildInfo['ferretdbVersion'])}`;
  if (buildInfo['mongoJavaServerVersion']) return `mongo-java-server ${plain(buildInfo['mongoJavaServerVersion'])}`;
  return `MongoDB ${plain(buildInfo['version'])}`;
}

const SHARED_HINTS = ['or start a Docker engine (testcontainers then runs mongo:8.0)', 'or point MONGO_URL at a running MongoDB'];

export const MONGO_HINTS = [
  'run `bash tools/setup.sh` (builds FerretDB ' + FERRETDB_VERSION + ' into $(go env GOPATH)/bin; needs Go >= 1.24)',
  'or put a ferretdb binary on PATH or in FERRETDB_BIN',
  ...SHARED_HINTS,
];

export const ATOMIC_MONGO_HINTS = [
  'run `bash tools/setup.sh` (builds mongo-java-server ' + MONGO_JAVA_SERVER_VERSION + ' into ' + mongoJavaServerDir() + '; needs Java 17 and Maven)',
  'or put its launcher in MONGO_JAVA_SERVER_BIN',
  'or unset ZDM_MONGO_SERVER to use FerretDB',
  ...SHARED_HINTS,
];

function ferretdbStrategy(opts: StartOptions): Strategy<MongoService> {
  return localServerStrategy<MongoService>(
    {
      name: 'ferretdb',
      locate: () => {
        const dirs = goBinDirs();
        return { bin: findExecutable('ferretdb', 'FERRETDB_BIN', dirs), searched: `FERRETDB_BIN, PATH, ${dirs.join(', ')}` };
      },
      args: (port, dir) => [
        '--handler=sqlite',
        `--sqlite-url=file:${dir}/`,
        `--listen-addr=127.0.0.1:${port}`,
        `--state-dir=${dir}`,
        '--debug-addr=-',
        '--telemetry=disable',
        '--log-level=warn',
      ],
      describe: (version, pid) => `FerretDB ${version.replace(/^version:\s*/, '')} (SQLite, _id lookups indexed) pid ${pid}`,
      url: (port) => `mongodb://127.0.0.1:${port}/`,
      // Without it every lookup by _id reads the whole table (see indexFerretDbIds).
      afterStart: (dir) => keepFerretDbIdsIndexed(dir),
    },
    opts,
  );
}

function mongoJavaServerStrategy(opts: StartOptions): Strategy<MongoService> {
  return localServerStrategy<MongoService>(
    {
      name: 'mongo-java-server',
      locate: () => {
        const dir = mongoJavaServerDir();
        return { bin: findExecutable('mongo-java-server', 'MONGO_JAVA_SERVER_BIN', [dir]), searched: `MONGO_JAVA_SERVER_BIN, PATH, ${dir}` };
      },
      args: (port) => [String(port)],
      describe: (version, pid) => `${version || 'mongo-java-server'} (memory, atomic updates) pid ${pid}`,
      url: (port) => `mongodb://127.0.0.1:${port}/`,
    },
    opts,
  );
}

function memoryServerStrategy(): Strategy<MongoService> {
  return {
    source: 'memory-server',
    label: 'mongodb-memory-server',
    start: async () => {
      const startedAt = Date.now();
      const { MongoMemoryServer } = await import('mongodb-memory-server');
      const server = await MongoMemoryServer.create({ instance: { ip: '127.0.0.1' } });
      const stop = async () => {
        await server.stop({ doCleanup: true, force: true });
      };
      return { url: server.getUri(), ...handle('memory-server', `mongod (mongodb-memory-server) ${server.getUri()}`, startedAt, stop) };
    },
  };
}

/**
 * A MongoDB-compatible server: MONGO_URL, else a mongo container (Docker), else a local
 * process (FerretDB on SQLite, or mongo-java-server with ZDM_MONGO_SERVER=atomic), else
 * mongodb-memory-server. Throws ServiceUnavailableError with install instructions when none works.
 */
export async function startMongo(opts: StartOptions = {}): Promise<MongoService> {
  const atomic = localMongoServer() === 'atomic';
  return resolveService(
    'mongo',
    [
      envUrlStrategy<MongoService>('mongo', 'MONGO_URL', 27017),
      containerStrategy<MongoService>(process.env.ZDM_MONGO_IMAGE ?? 'mongo:8.0', async (image) => {
        const { MongoDBContainer } = await import('@testcontainers/mongodb');
        const container = await new MongoDBContainer(image).start();
        // The container runs a one-node replica set that advertises an internal host name.
        return { container, url: `${container.getConnectionString()}/?directConnection=true` };
      }),
      atomic ? mongoJavaServerStrategy(opts) : ferretdbStrategy(opts),
      memoryServerStrategy(),
    ],
    atomic ? ATOMIC_MONGO_HINTS : MONGO_HINTS,
    opts,
  );
}
