import { Clock } from '../clock';

interface Timer {
  at: number;
  seq: number;
  fire: () => void;
  /** Set for `every`: the period after which it fires again. */
  period?: number;
}

/** Lets pending promise chains run (a few macrotask turns; no wall-clock time is waited for). */
const settle = async (turns = 5): Promise<void> => {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
};

/**
 * A {@link Clock} that stands still until a test moves it. `advance(ms)` fires every sleep and
 * interval that falls due on the way, in time order, and lets the code they wake run before
 * moving on, so a test steps through leases, renewals and pauses without waiting.
 */
export class ManualClock implements Clock {
  private time: number;
  private seq = 0;
  private timers: Timer[] = [];

  /** @param start the initial time (default 2025-03-01T12:00:00Z) */
  constructor(start: Date | number = Date.UTC(2025, 2, 1, 12)) {
    this.time = typeof start === 'number' ? start : start.getTime();
  }

  now(): number {
    return this.time;
  }

  /** The current time as a Date. */
  date(): Date {
    return new Date(this.time);
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.schedule({ at: this.time + Math.max(0, ms), fire: resolve }));
  }

  every(ms: number, tick: () => void): () => void {
    const timer = this.schedule({ at: this.time + ms, fire: tick, period: ms });
    return () => {
      this.timers = this.timers.filter((t) => t !== timer);
    };
  }

  /** How many sleeps and intervals are waiting. */
  get pending(): number {
    return this.timers.length;
  }

  /** Moves the time forward by `ms`, firing what falls due on the way (and letting it run). */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    await settle();
    for (;;) {
      const next = [...this.timers].sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!next || next.at > end) break;
      this.time = next.at;
      if (next.period === undefined) this.timers = this.timers.filter((t) => t !== next);
      else Object.assign(next, { at: next.at + next.period, seq: this.seq++ });
      next.fire();
      await settle();
    }
    this.time = end;
    await settle();
  }

  private schedule(timer: Omit<Timer, 'seq'>): Timer {
    const scheduled = { ...timer, seq: this.seq++ };
    this.timers.push(scheduled);
    return scheduled;
  }
}
