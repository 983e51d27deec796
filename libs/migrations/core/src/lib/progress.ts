/** A point-in-time view of a job's progress. */
export interface ProgressSnapshot {
  done: number;
  total: number;
  remaining: number;
  /** Items per second, smoothed over recent batches. */
  ratePerSec: number;
  /** Seconds until done at the current rate; null until a rate is known. */
  etaSec: number | null;
  elapsedMs: number;
}

/** Counts done/total and derives a smoothed rate and an ETA. */
export class ProgressTracker {
  private done: number;
  private rate = 0;
  private readonly startedAt: number;
  private lastAt: number;

  constructor(
    private total: number,
    done = 0,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.done = done;
    this.startedAt = now();
    this.lastAt = this.startedAt;
  }

  /** Records `count` more items finished. */
  add(count: number): void {
    const t = this.now();
    const dt = (t - this.lastAt) / 1000;
    this.lastAt = t;
    this.done += count;
    if (this.done > this.total) this.total = this.done;
    if (dt > 0) {
      const instant = count / dt;
      this.rate = this.rate === 0 ? instant : this.rate * 0.7 + instant * 0.3;
    }
  }

  /** Raises the total when more work is found (for example a new pass). */
  grow(extra: number): void {
    this.total += extra;
  }

  snapshot(): ProgressSnapshot {
    const remaining = Math.max(0, this.total - this.done);
    return {
      done: this.done,
      total: this.total,
      remaining,
      ratePerSec: Math.round(this.rate * 10) / 10,
      etaSec: this.rate > 0 ? Math.ceil(remaining / this.rate) : remaining === 0 ? 0 : null,
      elapsedMs: Math.round(this.now() - this.startedAt),
    };
  }
}
