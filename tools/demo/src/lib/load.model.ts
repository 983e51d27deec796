/**
 * Relative weights of the request kinds, keyed `<service>.<kind>` (`customers.read`, `orders.place`);
 * they need not add up to 1. Each service's traffic (lib/services) says which kinds it knows.
 */
export type RequestMix = Record<string, number>;

/** The kind whose share of the total weight contains `r` (a number in [0, 1)), in the mix's key order. */
export function pickKind(mix: RequestMix, r: number): string {
  const kinds = Object.keys(mix);
  const total = kinds.reduce((sum, k) => sum + Math.max(0, mix[k]), 0);
  if (!(total > 0)) throw new Error('the request mix needs at least one positive weight');
  let acc = 0;
  for (const kind of kinds) {
    acc += Math.max(0, mix[kind]) / total;
    if (r < acc) return kind;
  }
  return kinds.filter((k) => mix[k] > 0).at(-1) as string;
}

/** The service of a `<service>.<kind>` request kind. */
export const serviceOfKind = (kind: string): string => kind.slice(0, kind.indexOf('.'));

/** How a write ended, as far as the client can tell. */
export type WriteOutcome = 'acked' | 'rejected' | 'unknown';

/** How many writes of one service the load made, and of how many documents it knows the last value. */
export interface WriteCounts {
  seeded: number;
  created: number;
  updated: number;
  unknownOutcome: number;
  documents: number;
}

/**
 * The client's memory of what it wrote to one service: the last acknowledged value of every
 * document, which documents have a write in flight (one at a time per document, so "last
 * acknowledged" is well defined), and which ones had a write whose outcome is unknown (no answer,
 * or a 5xx): those can legitimately hold either value and are left out of the read-back.
 */
export class AckedWrites<V extends object> {
  private readonly acked = new Map<string, V>();
  private readonly ids: string[] = [];
  private readonly inFlight = new Set<string>();
  private readonly unknown = new Set<string>();
  /** Grows on every write started, per document: a read that saw it change is not compared. */
  private readonly epochs = new Map<string, number>();
  private seededCount = 0;
  private createdCount = 0;
  private updatedCount = 0;

  /** Records a document that exists before the load starts (the seed). */
  seed(id: string, value: V): void {
    if (!this.acked.has(id)) this.ids.push(id);
    this.acked.set(id, { ...value });
    this.seededCount++;
  }

  /** Records an acknowledged create. */
  created(id: string, value: V): void {
    if (!this.acked.has(id)) this.ids.push(id);
    this.acked.set(id, { ...value });
    this.createdCount++;
  }

  /** Marks a write to `id` as started; false when another write to it is still in flight. */
  begin(id: string): boolean {
    if (this.inFlight.has(id)) return false;
    this.inFlight.add(id);
    this.epochs.set(id, this.epoch(id) + 1);
    return true;
  }

  /** Ends the write started by {@link begin}; an acknowledged one records the value the server returned. */
  end(id: string, outcome: WriteOutcome, value?: V): void {
    this.inFlight.delete(id);
    if (outcome === 'acked' && value) {
      this.acked.set(id, { ...value });
      this.unknown.delete(id);
      this.updatedCount++;
    } else if (outcome === 'unknown') {
      this.unknown.add(id);
    }
  }

  /** A counter that changes whenever a write to `id` starts. */
  epoch(id: string): number {
    return this.epochs.get(id) ?? 0;
  }

  /** The value a read of `id` must return now, or undefined when it cannot be known (write in flight or outcome unknown). */
  expected(id: string): V | undefined {
    if (this.inFlight.has(id) || this.unknown.has(id)) return undefined;
    return this.acked.get(id);
  }

  /** The last acknowledged value of `id`, whatever is in flight (e.g. to build the next write from it). */
  last(id: string): V | undefined {
    return this.acked.get(id);
  }

  /** A known document picked with `r` in [0, 1), or undefined when there is none. */
  pick(r: number): string | undefined {
    return this.ids.length ? this.ids[Math.floor(r * this.ids.length)] : undefined;
  }

  /** Every document whose last acknowledged value is known, for the read-back. */
  entries(): [string, V][] {
    return [...this.acked].filter(([id]) => !this.unknown.has(id));
  }

  counts(): WriteCounts {
    return { seeded: this.seededCount, created: this.createdCount, updated: this.updatedCount, unknownOutcome: this.unknown.size, documents: this.acked.size };
  }
}

/** Requests recorded as parallel arrays (compact enough for a few hundred thousand requests). */
export interface RequestLog {
  /** Every request kind seen, `<service>.<kind>`; `kind` below indexes into it. */
  kinds: string[];
  /** Start of each request, in ms since the load started. */
  startMs: number[];
  /** Time to the full answer, in ms (to the failure for status 0). */
  latencyMs: number[];
  /** HTTP status, 0 when no answer came (connection error or timeout). */
  status: number[];
  /** Index into {@link kinds}. */
  kind: number[];
}

export function emptyRequestLog(): RequestLog {
  return { kinds: [], startMs: [], latencyMs: [], status: [], kind: [] };
}

/** Appends one answered request to the log. */
export function logRequest(log: RequestLog, kind: string, startMs: number, latencyMs: number, status: number): void {
  let index = log.kinds.indexOf(kind);
  if (index < 0) index = log.kinds.push(kind) - 1;
  log.startMs.push(Math.round(startMs * 10) / 10);
  log.latencyMs.push(Math.round(latencyMs * 100) / 100);
  log.status.push(status);
  log.kind.push(index);
}

/** The requests of one service only (kinds `<service>.*`), as a log of their own. */
export function serviceLog(log: RequestLog, service: string): RequestLog {
  const out = emptyRequestLog();
  log.kind.forEach((k, i) => {
    const kind = log.kinds[k];
    if (serviceOfKind(kind) === service) logRequest(out, kind, log.startMs[i], log.latencyMs[i], log.status[i]);
  });
  return out;
}

/** Whether a request counts as failed: no answer, or any answer other than 2xx. */
export function isFailure(status: number): boolean {
  return status < 200 || status >= 300;
}
