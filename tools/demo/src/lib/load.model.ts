/** What one generated request does. */
export type RequestKind = 'read' | 'list' | 'create' | 'update';

export const REQUEST_KINDS: readonly RequestKind[] = ['read', 'list', 'create', 'update'];

/** Relative weights of the request kinds; they need not add up to 1. */
export type RequestMix = Record<RequestKind, number>;

/** Mostly reads by id, a few list pages, and one write in five: creates and updates. */
export const DEFAULT_MIX: RequestMix = { read: 0.78, list: 0.02, create: 0.1, update: 0.1 };

/** The kind whose share of the total weight contains `r` (a number in [0, 1)). */
export function pickKind(mix: RequestMix, r: number): RequestKind {
  const total = REQUEST_KINDS.reduce((sum, k) => sum + Math.max(0, mix[k]), 0);
  if (!(total > 0)) throw new Error('the request mix needs at least one positive weight');
  let acc = 0;
  for (const kind of REQUEST_KINDS) {
    acc += Math.max(0, mix[kind]) / total;
    if (r < acc) return kind;
  }
  return REQUEST_KINDS.filter((k) => mix[k] > 0).at(-1) as RequestKind;
}

/** A customer's name as the v1 API reads and writes it. */
export interface CustomerName {
  firstName: string;
  lastName: string;
}

/** How a write ended, as far as the client can tell. */
export type WriteOutcome = 'acked' | 'rejected' | 'unknown';

/**
 * The client's memory of what it wrote: the last acknowledged value of every customer, which
 * customers have a write in flight (one at a time per customer, so "last acknowledged" is well
 * defined), and which ones had a write whose outcome is unknown (no answer, or a 5xx): those can
 * legitimately hold either value and are left out of the read-back.
 */
export class AckedWrites {
  private readonly acked = new Map<string, CustomerName>();
  private readonly ids: string[] = [];
  private readonly inFlight = new Set<string>();
  private readonly unknown = new Set<string>();
  /** Grows on every write started, per customer: a read that saw it change is not compared. */
  private readonly epochs = new Map<string, number>();
  private seededCount = 0;
  private createdCount = 0;
  private updatedCount = 0;

  /** Records a customer that exists before the load starts (the seed). */
  seed(id: string, name: CustomerName): void {
    if (!this.acked.has(id)) this.ids.push(id);
    this.acked.set(id, { ...name });
    this.seededCount++;
  }

  /** Records an acknowledged create. */
  created(id: string, name: CustomerName): void {
    if (!this.acked.has(id)) this.ids.push(id);
    this.acked.set(id, { ...name });
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
  end(id: string, outcome: WriteOutcome, name?: CustomerName): void {
    this.inFlight.delete(id);
    if (outcome === 'acked' && name) {
      this.acked.set(id, { ...name });
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
  expected(id: string): CustomerName | undefined {
    if (this.inFlight.has(id) || this.unknown.has(id)) return undefined;
    return this.acked.get(id);
  }

  /** A known customer picked with `r` in [0, 1), or undefined when there is none. */
  pick(r: number): string | undefined {
    return this.ids.length ? this.ids[Math.floor(r * this.ids.length)] : undefined;
  }

  /** Every customer whose last acknowledged value is known, for the read-back. */
  entries(): [string, CustomerName][] {
    return [...this.acked].filter(([id]) => !this.unknown.has(id));
  }

  counts(): { seeded: number; created: number; updated: number; unknownOutcome: number; customers: number } {
    return { seeded: this.seededCount, created: this.createdCount, updated: this.updatedCount, unknownOutcome: this.unknown.size, customers: this.acked.size };
  }
}

/** Requests recorded as parallel arrays (compact enough for a few hundred thousand requests). */
export interface RequestLog {
  /** Start of each request, in ms since the load started. */
  startMs: number[];
  /** Time to the full answer, in ms (to the failure for status 0). */
  latencyMs: number[];
  /** HTTP status, 0 when no answer came (connection error or timeout). */
  status: number[];
  /** Index into {@link REQUEST_KINDS}. */
  kind: number[];
}

export function emptyRequestLog(): RequestLog {
  return { startMs: [], latencyMs: [], status: [], kind: [] };
}

/** Whether a request counts as failed: no answer, or any answer other than 2xx. */
export function isFailure(status: number): boolean {
  return status < 200 || status >= 300;
}

const FIRST_NAMES = ['Ada', 'Grace', 'Alan', 'Barbara', 'Edsger', 'Mary Ann', 'Donald', 'Frances', 'Ken', 'Radia', 'Tony', 'Margaret', 'Jean Luc', 'Leslie'];
const LAST_NAMES = ['Lovelace', 'Hopper', 'Turing', 'Liskov', 'Dijkstra', 'Evans', 'Knuth', 'Allen', 'Thompson', 'Perlman', 'Hoare', 'Hamilton', 'Lamport', ''];

/**
 * A name for write number `seq`, unique to it so that a stale read is noticed. Some first names hold
 * a space ("Mary Ann") and some last names are empty (people known by one name): the cases where
 * joining into `fullName` and splitting back could go wrong. A first name holds a space only when a
 * last name follows, so even a split at the last space gives the same two fields back.
 */
export function nameFor(seq: number, r: number): CustomerName {
  const first = FIRST_NAMES[Math.floor(r * FIRST_NAMES.length) % FIRST_NAMES.length];
  const last = LAST_NAMES[seq % LAST_NAMES.length];
  return last ? { firstName: first, lastName: `${last}${seq}` } : { firstName: `${first.replace(/ /g, '')}${seq}`, lastName: '' };
}
