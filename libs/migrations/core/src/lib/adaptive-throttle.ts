/** Options for {@link AdaptiveThrottle}; all times in milliseconds. */
export interface ThrottleOptions {
  /** Batch latency the runner aims for; above it, batches shrink and pauses grow. Default 200. */
  targetLatencyMs?: number;
  /** First batch size. Default 500. */
  initialBatchSize?: number;
  /** Smallest batch. Default 50. */
  minBatchSize?: number;
  /** Largest batch. Default 2000. */
  maxBatchSize?: number;
  /** Longest pause between batches. Default 2000. */
  maxPauseMs?: number;
  /** Fixed extra pause between batches, on top of the adaptive one. Default 0. */
  basePauseMs?: number;
}

/**
 * Additive-increase / multiplicative-decrease on batch size and pause, driven by the measured
 * latency of each batch. Slow store: halve the batch and double the pause. Fast store: grow the
 * batch by a tenth and halve the pause.
 */
export class AdaptiveThrottle {
  readonly target: number;
  private readonly min: number;
  private readonly max: number;
  private readonly maxPause: number;
  private readonly basePause: number;
  private size: number;
  private pause = 0;

  constructor(options: ThrottleOptions = {}) {
    this.target = options.targetLatencyMs ?? 200;
    this.min = options.minBatchSize ?? 50;
    this.max = options.maxBatchSize ?? 2000;
    this.maxPause = options.maxPauseMs ?? 2000;
    this.basePause = options.basePauseMs ?? 0;
    const initial = options.initialBatchSize ?? 500;
    // A batch of 0 would read nothing and never advance the cursor, so sizes are whole and >= 1.
    if (!Number.isInteger(this.min) || this.min < 1) throw new Error(`minBatchSize must be an integer >= 1, got ${this.min}`);
    if (!Number.isInteger(this.max)) throw new Error(`maxBatchSize must be an integer, got ${this.max}`);
    if (!(initial > 0) || !Number.isFinite(initial)) throw new Error(`initialBatchSize must be a positive number, got ${initial}`);
    if (!(this.maxPause >= 0)) throw new Error(`maxPauseMs must be >= 0, got ${this.maxPause}`);
    if (!(this.basePause >= 0)) throw new Error(`basePauseMs must be >= 0, got ${this.basePause}`);
    this.size = Math.min(this.max, Math.max(this.min, Math.round(initial)));
    if (this.min > this.max) throw new Error(`minBatchSize (${this.min}) is larger than maxBatchSize (${this.max})`);
    if (!(this.target > 0)) throw new Error(`targetLatencyMs must be positive, got ${this.target}`);
  }

  get batchSize(): number {
    return this.size;
  }

  get pauseMs(): number {
    return this.pause + this.basePause;
  }

  /** Feeds the latency of one batch; adjusts the next batch size and pause. */
  observe(latencyMs: number): void {
    if (latencyMs > this.target) {
      this.size = Math.max(this.min, Math.floor(this.size / 2));
      this.pause = Math.min(this.maxPause, Math.max(10, this.pause * 2));
    } else if (latencyMs < this.target * 0.7) {
      this.size = Math.min(this.max, this.size + Math.ceil(this.size / 10));
      this.pause = this.pause < 5 ? 0 : Math.floor(this.pause / 2);
    }
  }
}
