import { containerStrategy, envUrlStrategy, localServerStrategy } from './common-strategies';
import { keepFerretDbIdsIndexed } from './ferretdb-id-index';
import { findExecutable, goBinDirs } from './local-process';
import { handle, resolveService, type Strategy } from './resolve';
import type { MongoService, StartOptions } from './types';

export const FERRETDB_VERSION = 'v1.24.2';

export const MONGO_HINTS = [
  'run `bash tools/setup.sh` (builds FerretDB ' + FERRETDB_VERSION + ' into $(go env GOPATH)/bin; needs Go >= 1.24)',
  'or put a ferretdb binary on PATH or in FERRETDB_BIN',
  'or start a Docker engine (testcontainers then runs mongo:8.0)',
  'or point MONGO_URL at a running MongoDB',
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
 * FerretDB (SQLite handler), else mongodb-memory-server. Throws ServiceUnavailableError
 * with install instructions when none works.
 */
export function startMongo(opts: StartOptions = {}): Promise<MongoService> {
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
      ferretdbStrategy(opts),
      memoryServerStrategy(),
    ],
    MONGO_HINTS,
    opts,
  );
}
