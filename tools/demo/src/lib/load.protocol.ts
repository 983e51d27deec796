import type { CustomerName, RequestLog, RequestMix } from './load.model';

/** Parent → worker: start sending. */
export interface LoadStartMessage {
  type: 'start';
  /** The load balancer, e.g. `http://127.0.0.1:8080`. */
  baseUrl: string;
  /** Requests started per second (open loop: the rate does not drop when answers slow down). */
  rps: number;
  mix: RequestMix;
  /** Customers that exist before the load starts: `[id, firstName, lastName]`. */
  seeds: [string, string, string][];
  /** Requests in flight at most; a request due beyond it is counted as not sent. */
  maxInFlight: number;
  /** Per-request timeout; past it the request counts as failed with status 0. */
  timeoutMs: number;
  /** Seed of the pseudo-random choices, so a run can be repeated. */
  randomSeed: number;
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

/** One read that did not return the last acknowledged value. */
export interface ReadMismatch {
  id: string;
  atMs: number;
  expected: CustomerName;
  got: Record<string, unknown>;
}

/** Worker → parent, once, after `stop`. */
export interface LoadResultMessage {
  type: 'result';
  /** Wall-clock time (epoch ms) of the load's start: the zero of `log.startMs`. */
  startedAt: number;
  log: RequestLog;
  /** Last acknowledged value per customer: `[id, firstName, lastName]` (outcome-unknown writes left out). */
  acked: [string, string, string][];
  writes: { seeded: number; created: number; updated: number; unknownOutcome: number; customers: number };
  /** Reads by id compared with the last acknowledged value (no write to that customer in flight). */
  reads: { compared: number; mismatches: number; examples: ReadMismatch[] };
  /** Requests that were due while `maxInFlight` requests were open (the client could not keep up). */
  notSent: number;
  /** Requests still open when the worker gave up waiting. */
  abandoned: number;
}

export type LoadWorkerMessage = LoadProgressMessage | LoadResultMessage;
export type LoadControlMessage = LoadStartMessage | LoadStopMessage;
