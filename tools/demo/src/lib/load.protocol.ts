import type { RequestLog, RequestMix } from './load.model';
import type { AuthLoadResult, AuthLoadSpec } from './services/load.sessions';
import type { ServiceLoadResult } from './services/traffic';

/** The traffic of one service: its name (lib/services/index.ts) and the documents that exist before the load starts. */
export interface ServiceLoadSpec {
  service: string;
  /** `[id, value as the API returns it]` of each seeded document: the first acknowledged writes. */
  seeds: [string, Record<string, unknown>][];
  /** Settings of this service's traffic (e.g. which customers orders are placed for). */
  options?: Record<string, unknown>;
}

/** Parent → worker: start sending. */
export interface LoadStartMessage {
  type: 'start';
  /** The load balancer, e.g. `http://127.0.0.1:8080`. */
  baseUrl: string;
  /** Requests started per second (open loop: the rate does not drop when answers slow down). */
  rps: number;
  /** Weights of `<service>.<kind>`; every service named here must be in `services`. */
  mix: RequestMix;
  services: ServiceLoadSpec[];
  /** Requests in flight at most; a request due beyond it is counted as not sent. */
  maxInFlight: number;
  /** Per-request timeout; past it the request counts as failed with status 0. */
  timeoutMs: number;
  /** Seed of the pseudo-random choices, so a run can be repeated. */
  randomSeed: number;
  /** Where the load logs in: then every write (any method but GET) carries an access token. */
  auth?: AuthLoadSpec;
}

/** Parent → worker: stop starting requests, finish the ones in flight, send the result. */
export interface LoadStopMessage {
  type: 'stop';
}

/** Worker → parent, every second. */
export interface LoadProgressMessage {
  type: 'progress';
  elapsedMs: number;
  sent: number;
  answered: number;
  failed: number;
  inFlight: number;
}

/** Worker → parent, once, after `stop`. */
/** One failed request as the client saw it (the first few of a run are kept, for the report). */
export interface FailedRequest {
  /** Milliseconds since the load started, when the request was sent. */
  atMs: number;
  method: string;
  path: string;
  /** 0: no answer (connection refused or reset, or the client's timeout). */
  status: number;
  /** The answer's body, cut to a few hundred characters, or `no answer`. */
  answer: string;
}

export interface LoadResultMessage {
  type: 'result';
  /** Wall-clock time (epoch ms) of the load's start: the zero of `log.startMs`. */
  startedAt: number;
  log: RequestLog;
  /** Per service: its acknowledged writes and the reads compared with them. */
  services: Record<string, ServiceLoadResult>;
  /** Requests that were due while `maxInFlight` requests were open (the client could not keep up). */
  notSent: number;
  /** Requests still open when the worker gave up waiting. */
  abandoned: number;
  /** The first failed requests (at most {@link FAILED_EXAMPLES}), with what they were answered. */
  failedExamples?: FailedRequest[];
  /** What the load's sessions did (logins, refreshes, 401s to valid tokens), when it logged in. */
  auth?: AuthLoadResult;
}

/** How many failed requests the load generator keeps in full. */
export const FAILED_EXAMPLES = 20;

export type LoadWorkerMessage = LoadProgressMessage | LoadResultMessage;
export type LoadControlMessage = LoadStartMessage | LoadStopMessage;
