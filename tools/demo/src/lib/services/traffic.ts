import type { WriteCounts } from '../load.model';

/** One answer of the API: status (0 for none) and the JSON body, if any. */
export interface Answer {
  status: number;
  body: Record<string, unknown> | null;
}

/** What a service's traffic can do inside the load generator. */
export interface TrafficContext {
  /** Sends one request through the load balancer. */
  send(method: string, path: string, body?: unknown): Promise<Answer>;
  /** The next pseudo-random number in [0, 1) of the run's seeded sequence. */
  rand(): number;
  /** A number never handed out before in this run, to make every written value unique. */
  seq(): number;
  /** Milliseconds since the load started. */
  now(): number;
  /** Records one answered request; `kind` is the service's own name for it (`read`, `place`...). */
  record(kind: string, startedAt: number, status: number): void;
}

/** One read that did not return the last acknowledged value. */
export interface ReadMismatch {
  id: string;
  atMs: number;
  expected: unknown;
  got: Record<string, unknown>;
}

/** Reads compared with the last acknowledged value during the load. */
export interface ReadComparisons {
  compared: number;
  mismatches: number;
  examples: ReadMismatch[];
}

/** What the traffic of one service recorded, sent to the parent at the end. */
export interface ServiceLoadResult {
  /** Last acknowledged value per document (outcome-unknown writes left out), for the read-back. */
  acked: [string, Record<string, unknown>][];
  writes: WriteCounts;
  reads: ReadComparisons;
}

/**
 * The requests of one service in the load mix: `issue` sends one request of a kind the service
 * knows (it may send another kind when no document fits, e.g. a create when none exists yet) and
 * records it; `result` is what it remembers of its acknowledged writes.
 */
export interface ServiceTraffic {
  readonly kinds: readonly string[];
  issue(kind: string, ctx: TrafficContext): Promise<void>;
  result(): ServiceLoadResult;
}

/** What a read found wrong: `lost` when the acknowledged value is not there, `inconsistent` when it is but a derived field disagrees. */
export type ReadProblem = 'lost' | 'inconsistent';

/** Keeps the examples of a list short. */
export function pushExample<T>(list: T[], example: T, max = 20): void {
  if (list.length < max) list.push(example);
}
