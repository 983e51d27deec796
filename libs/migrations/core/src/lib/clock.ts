/**
 * Where the library reads the time and waits: leases and heartbeats, the runner's renewals and
 * pauses. Production uses {@link systemClock}; tests inject a manual one
 * (`ManualClock` from `@zdm/migrations-core/testing`), so that no unit test sleeps on wall time.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves once `ms` of this clock's time have passed. */
  sleep(ms: number): Promise<void>;
  /** Calls `tick` every `ms` of this clock's time until the returned function is called (it keeps no process alive). */
  every(ms: number, tick: () => void): () => void;
}

/** The process's clock: epoch-aligned, and monotonic within the process (performance.now). */
export const systemClock: Clock = {
  now: () => performance.timeOrigin + performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  every: (ms, tick) => {
    const timer = setInterval(tick, ms);
    timer.unref();
    return () => clearInterval(timer);
  },
};
