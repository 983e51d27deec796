export type ServiceName = 'mongo' | 'redis' | 'unleash';

/**
 * Where a service came from:
 * - `env`: an address given in the environment (MONGO_URL, REDIS_URL, UNLEASH_*);
 * - `testcontainers`: a container on a Docker engine that answered;
 * - `local`: a local process (FerretDB, redis-server, unleash-server + PostgreSQL);
 * - `memory-server`: mongodb-memory-server (MongoDB only).
 */
export type ServiceSource = 'env' | 'testcontainers' | 'local' | 'memory-server';

export const ALL_SOURCES: readonly ServiceSource[] = ['env', 'testcontainers', 'local', 'memory-server'];

export interface StartOptions {
  /** Sources to try, in the fixed resolution order. Default: env ZDM_SERVICE_SOURCES (comma list), else all. */
  sources?: readonly ServiceSource[];
  /** Startup timeout per service in ms (default 60 s; Unleash 180 s). */
  timeoutMs?: number;
  /** Progress messages (default: none). */
  log?: (line: string) => void;
}

export interface ServiceHandle {
  source: ServiceSource;
  /** Human-readable: which server this is, e.g. "FerretDB v1.24.2 (SQLite) pid 123". */
  description: string;
  /** Local processes only: server pid (= its process group) and private temp dir. */
  pid?: number;
  dir?: string;
  /** Milliseconds from request to ready. */
  startupMs: number;
  /** Stops what was started (no-op for `env`). Idempotent. */
  stop(): Promise<void>;
}

export interface MongoService extends ServiceHandle {
  /** mongodb:// URL without a database name; pick one per suite (uniqueMongoDbName). */
  url: string;
}

export interface RedisService extends ServiceHandle {
  url: string;
}

export interface UnleashService extends ServiceHandle {
  /** Base URL, e.g. http://127.0.0.1:4242 */
  url: string;
  /** `${url}/api`, what unleash-client's `url` option takes. */
  apiUrl: string;
  /** Admin API token (`Authorization` header for /api/admin). */
  adminToken: string;
  /** Backend (client) token for unleash-client, environment `development`. */
  clientToken: string;
}

export interface ServiceMap {
  mongo: MongoService;
  redis: RedisService;
  unleash: UnleashService;
}
