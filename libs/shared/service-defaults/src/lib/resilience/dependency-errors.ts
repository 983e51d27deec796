/**
 * A dependency (a store, a broker, another service) cannot answer now. The service answers 503
 * with `Retry-After` and names `dependency`, as its readiness check of the same name does.
 */
export class DependencyUnavailableError extends Error {
  constructor(
    /** The dependency's name, as its readiness check is registered (e.g. `mongo`, `redis`). */
    readonly dependency: string,
    /** What happened, for people; no internals. */
    readonly reason: string,
  ) {
    super(`${dependency} is unavailable: ${reason}`);
    this.name = 'DependencyUnavailableError';
  }
}

/** The request's deadline passed while it was busy with something other than a dependency call: 504. */
export class RequestDeadlineExceededError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RequestDeadlineExceededError';
  }
}

/** MongoDB driver errors that mean the server cannot be reached or answered too late. */
const MONGO_UNREACHABLE = new Set([
  'MongoServerSelectionError',
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoOperationTimeoutError',
  'MongoTopologyClosedError',
  'MongoNotConnectedError',
  'MongoPoolClearedError',
  'MongoWaitQueueTimeoutError',
  'MongoServerClosedError',
]);

/**
 * Server error codes of a server that is stepping down, shutting down, unreachable or out of time
 * (MaxTimeMSExpired 50, ExceededTimeLimit 262, NetworkTimeout 89, ...), never the caller's fault.
 */
const MONGO_TRANSIENT_CODES = new Set([6, 7, 50, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436]);

/**
 * FerretDB (SQLite) answers InternalError (1) when SQLite interrupted a statement or FerretDB
 * cancelled it (its deadline or the client's connection went while the server was stalled or
 * overloaded), or when SQLite stayed busy: the
 * operation did not complete, through no fault of the request.
 */
const FERRETDB_INTERRUPTED = /\binterrupted \(9\)|database is locked \(5\)|\bcontext canceled\b/;

/** Duplicate key: a real conflict with data that exists, answered 409. */
const MONGO_DUPLICATE_KEY = 11000;

/** ioredis errors of a connection that is down (its requests are refused or flushed). */
const REDIS_UNREACHABLE_NAMES = new Set(['MaxRetriesPerRequestError', 'ClusterAllFailedError']);
const REDIS_UNREACHABLE_MESSAGES = [/^Connection is closed\.?$/, /Stream isn't writeable/, /max retries per request/i];

/** What a caught error says about the service's dependencies. */
export type DependencyFailure =
  | { kind: 'unavailable'; dependency: string; reason: string }
  | { kind: 'conflict'; dependency: string; reason: string };

/**
 * The error and what it wraps: `cause`, and `errorResponse` where the driver keeps the original
 * error of a failed bulk write (a `MongoBulkWriteError` around a `MongoNetworkError`).
 */
const errorChain = (error: unknown): Error[] => {
  const chain: Error[] = [];
  const next = (e: Error) => {
    const { cause, errorResponse } = e as { cause?: unknown; errorResponse?: unknown };
    return errorResponse instanceof Error ? errorResponse : cause;
  };
  for (let e = error; e instanceof Error && chain.length < 8; e = next(e)) chain.push(e);
  return chain;
};

const numericCode = (e: Error) => {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
};

const isMongoError = (e: Error) => e.name.startsWith('Mongo');

/**
 * Classifies an error thrown by a store client: MongoDB driver errors (by class name and server
 * code) and ioredis connection errors, looked for along the `cause` chain. Returns undefined for
 * anything else. Recognised by name, so no client library is loaded here.
 */
export function classifyDependencyError(error: unknown): DependencyFailure | undefined {
  for (const e of errorChain(error)) {
    if (e instanceof DependencyUnavailableError) return { kind: 'unavailable', dependency: e.dependency, reason: e.reason };
    if (isMongoError(e)) {
      const codes = [numericCode(e), ...((e as { writeErrors?: { code?: number }[] }).writeErrors ?? []).map((w) => w.code)];
      if (codes.includes(MONGO_DUPLICATE_KEY)) return { kind: 'conflict', dependency: 'mongo', reason: 'a document with this key already exists' };
      if (MONGO_UNREACHABLE.has(e.name)) return { kind: 'unavailable', dependency: 'mongo', reason: mongoReason(e) };
      if (codes.some((code) => code !== undefined && MONGO_TRANSIENT_CODES.has(code)) || FERRETDB_INTERRUPTED.test(e.message)) {
        return { kind: 'unavailable', dependency: 'mongo', reason: 'the server did not complete the operation in time' };
      }
    }
    if (REDIS_UNREACHABLE_NAMES.has(e.name) || REDIS_UNREACHABLE_MESSAGES.some((re) => re.test(e.message))) {
      return { kind: 'unavailable', dependency: 'redis', reason: 'the connection is down' };
    }
  }
  return undefined;
}

function mongoReason(e: Error): string {
  if (e.name === 'MongoServerSelectionError') return 'no server could be selected';
  if (e.name.includes('Timeout')) return 'the server did not answer in time';
  return 'the connection to the server failed';
}
