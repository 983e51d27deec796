import { AckedWrites, type WriteCounts } from '../load.model';

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

/**
 * What one service's traffic remembers: its acknowledged writes, and the reads compared with them.
 * A read is compared only when no write to that document started while it was on its way and none
 * is in flight when it comes back.
 */
export class TrafficMemory<V extends object> {
  readonly writes = new AckedWrites<V>();
  readonly reads: ReadComparisons = { compared: 0, mismatches: 0, examples: [] };

  constructor(
    seeds: readonly [string, Record<string, unknown>][],
    private readonly check: (expected: V, body: Record<string, unknown>) => ReadProblem | null,
  ) {
    for (const [id, value] of seeds) this.writes.seed(id, value as unknown as V);
  }

  /** `GET path` of document `id`, recorded as `kind` from `startedAt`, and compared with its last acknowledged value. */
  async read(ctx: TrafficContext, kind: string, id: string, path: string, startedAt: number): Promise<void> {
    const epoch = this.writes.epoch(id);
    const expected = this.writes.expected(id);
    const answer = await ctx.send('GET', path);
    ctx.record(kind, startedAt, answer.status);
    if (answer.status !== 200 || !expected || this.writes.epoch(id) !== epoch || !this.writes.expected(id)) return;
    this.reads.compared++;
    if (!this.check(expected, answer.body ?? {})) return;
    this.reads.mismatches++;
    pushExample(this.reads.examples, { id, atMs: Math.round(startedAt), expected, got: answer.body ?? {} });
  }

  /**
   * Sends a write to document `id` (one begun with `writes.begin`), records it as `kind`, and
   * remembers how it ended: acknowledged with the value its answer carries (`valueOf`), unknown
   * without an answer or with a 5xx, rejected otherwise.
   */
  async update(ctx: TrafficContext, kind: string, id: string, request: { method: string; path: string; body: unknown }, valueOf: (body: Record<string, unknown> | null) => V | undefined, startedAt: number): Promise<void> {
    const answer = await ctx.send(request.method, request.path, request.body);
    ctx.record(kind, startedAt, answer.status);
    const value = valueOf(answer.body);
    if (answer.status === 200 && value) this.writes.end(id, 'acked', value);
    else this.writes.end(id, answer.status === 0 || answer.status >= 500 ? 'unknown' : 'rejected');
  }

  /** POSTs a new document to `path`, records it as `kind`, and remembers it when the answer is a 201 with its id and value. */
  async create(ctx: TrafficContext, kind: string, path: string, body: unknown, valueOf: (body: Record<string, unknown> | null) => V | undefined, startedAt: number): Promise<void> {
    const answer = await ctx.send('POST', path, body);
    ctx.record(kind, startedAt, answer.status);
    const value = valueOf(answer.body);
    if (answer.status === 201 && typeof answer.body?.['id'] === 'string' && value) this.writes.created(answer.body['id'], value);
  }

  result(): ServiceLoadResult {
    return { acked: this.writes.entries().map(([id, v]) => [id, { ...v } as Record<string, unknown>]), writes: this.writes.counts(), reads: this.reads };
  }
}
