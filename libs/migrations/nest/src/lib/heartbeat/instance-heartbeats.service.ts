import { Logger } from '@nestjs/common';
import { Clock, HeartbeatStore, InstanceHeartbeat, systemClock } from '@zdm/migrations-core';
import { BuildSchemas, InstanceIdentity } from './build-schemas.service';

/** Timing of heartbeats. */
export interface HeartbeatOptions {
  /** How often the heartbeat is written. Default 5000 ms. */
  intervalMs?: number;
  /** How long one heartbeat stays live after it was written. Default 3 × `intervalMs`. */
  ttlMs?: number;
  /** Time source of the beats and of their `at`. Default: the system clock. */
  clock?: Clock;
  /**
   * Other facts to report (`InstanceHeartbeat.facts`), read at each beat; a change beats at once.
   * The module passes ServiceDefaultsModule's `InstanceFacts` when the app has it.
   */
  facts?: HeartbeatFactsSource;
}

/** Where a heartbeat's facts come from (`InstanceFacts` of `@zdm/service-defaults` is one). */
export interface HeartbeatFactsSource {
  snapshot(): Record<string, string[]>;
  onChange(listener: () => void): () => void;
}

/**
 * Writes this instance's heartbeat to the control store every `intervalMs`, and at once whenever a
 * flag or a reported fact changes (so an orchestrator waiting for "every instance sees the flag" is not kept waiting).
 * Writes are serialized: a late write never overwrites a newer one. A failed write is logged and
 * retried at the next beat; the service keeps running.
 */
export class InstanceHeartbeats {
  readonly intervalMs: number;
  readonly ttlMs: number;
  private readonly log = new Logger(InstanceHeartbeats.name);
  private readonly clock: Clock;
  private readonly facts: HeartbeatFactsSource | undefined;
  private stopTimer: (() => void) | undefined;
  private readonly unsubscribe: (() => void)[] = [];
  private queue: Promise<unknown> = Promise.resolve();
  private stopped = false;
  private lastBeat: InstanceHeartbeat | null = null;
  private lastError: string | null = null;

  constructor(
    private readonly store: HeartbeatStore,
    readonly identity: InstanceIdentity,
    private readonly schemas: BuildSchemas,
    options: HeartbeatOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 5_000;
    this.ttlMs = options.ttlMs ?? this.intervalMs * 3;
    this.clock = options.clock ?? systemClock;
    this.facts = options.facts;
    if (!(this.intervalMs > 0)) throw new Error(`heartbeat intervalMs must be positive, got ${options.intervalMs}`);
    if (!(this.ttlMs > this.intervalMs)) throw new Error(`heartbeat ttlMs (${this.ttlMs}) must be longer than intervalMs (${this.intervalMs})`);
  }

  /** Writes the first heartbeat, then keeps beating until {@link stop}. */
  async start(): Promise<void> {
    if (this.stopTimer || this.stopped) return;
    this.unsubscribe.push(this.schemas.flags.onChange(() => void this.beat()));
    if (this.facts) this.unsubscribe.push(this.facts.onChange(() => void this.beat()));
    this.stopTimer = this.clock.every(this.intervalMs, () => void this.beat());
    await this.beat();
  }

  /** Writes a heartbeat now. Resolves to what was written, or null if it failed or heartbeats stopped. */
  beat(): Promise<InstanceHeartbeat | null> {
    const next = this.queue.then(() => this.write());
    this.queue = next;
    return next;
  }

  /** The last heartbeat written, if any. */
  last(): InstanceHeartbeat | null {
    return this.lastBeat;
  }

  /** Stops beating and, unless `remove` is false, removes this instance's heartbeat from the store. */
  async stop(remove = true): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.stopTimer?.();
    for (const stop of this.unsubscribe) stop();
    await this.queue;
    if (!remove) return;
    try {
      await this.store.remove(this.identity.instanceId);
    } catch (err) {
      this.log.warn(`could not remove heartbeat of ${this.identity.instanceId}; it expires in ${this.ttlMs} ms: ${messageOf(err)}`);
    }
  }

  private async write(): Promise<InstanceHeartbeat | null> {
    if (this.stopped) return null;
    const hb = this.schemas.heartbeat(this.identity, new Date(this.clock.now()));
    const facts = this.facts?.snapshot();
    if (facts && Object.keys(facts).length) hb.facts = facts;
    try {
      await this.store.beat(hb, this.ttlMs);
    } catch (err) {
      if (this.lastError === null) this.log.warn(`heartbeat write failed (will retry every ${this.intervalMs} ms): ${messageOf(err)}`);
      this.lastError = messageOf(err);
      return null;
    }
    if (this.lastError !== null) this.log.log('heartbeat writes work again');
    this.lastError = null;
    this.lastBeat = hb;
    return hb;
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
