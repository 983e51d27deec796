import { AdaptiveThrottle, ThrottleOptions } from './adaptive-throttle';

/** Feeds the same latency `times` times and returns the throttle. */
function fed(throttle: AdaptiveThrottle, latencyMs: number, times = 1): AdaptiveThrottle {
  for (let i = 0; i < times; i++) throttle.observe(latencyMs);
  return throttle;
}

describe('AdaptiveThrottle', () => {
  it('starts at the default batch of 500 with no pause, aiming at 200 ms', () => {
    const t = new AdaptiveThrottle();
    expect([t.batchSize, t.pauseMs, t.target]).toEqual([500, 0, 200]);
  });

  it('halves the batch and starts pausing when a batch is slower than the target', () => {
    const t = fed(new AdaptiveThrottle({ targetLatencyMs: 100, initialBatchSize: 400 }), 150);
    expect([t.batchSize, t.pauseMs]).toEqual([200, 10]);
    fed(t, 150);
    expect([t.batchSize, t.pauseMs]).toEqual([100, 20]);
  });

  it('grows the batch by a tenth and halves the pause when batches are well under the target', () => {
    const t = fed(new AdaptiveThrottle({ targetLatencyMs: 100, initialBatchSize: 400 }), 150, 3);
    expect([t.batchSize, t.pauseMs]).toEqual([50, 40]);
    fed(t, 10);
    expect([t.batchSize, t.pauseMs]).toEqual([55, 20]);
    fed(t, 10, 2);
    expect([t.batchSize, t.pauseMs]).toEqual([68, 5]);
    fed(t, 10);
    expect(t.pauseMs).toBe(2);
    fed(t, 10);
    expect(t.pauseMs).toBe(0);
  });

  it('holds steady between 70% and 100% of the target', () => {
    const t = fed(new AdaptiveThrottle({ targetLatencyMs: 100, initialBatchSize: 300 }), 150);
    const before = [t.batchSize, t.pauseMs];
    fed(t, 70, 5);
    fed(t, 100, 5);
    expect([t.batchSize, t.pauseMs]).toEqual(before);
  });

  it('never shrinks below minBatchSize nor pauses longer than maxPauseMs', () => {
    const t = fed(new AdaptiveThrottle({ targetLatencyMs: 10, initialBatchSize: 1000, minBatchSize: 30, maxPauseMs: 75 }), 500, 20);
    expect([t.batchSize, t.pauseMs]).toEqual([30, 75]);
  });

  it('never grows beyond maxBatchSize', () => {
    const t = fed(new AdaptiveThrottle({ targetLatencyMs: 100, initialBatchSize: 900, maxBatchSize: 1000 }), 1, 50);
    expect(t.batchSize).toBe(1000);
  });

  it('clamps the initial batch into the bounds', () => {
    expect(new AdaptiveThrottle({ initialBatchSize: 10, minBatchSize: 20 }).batchSize).toBe(20);
    expect(new AdaptiveThrottle({ initialBatchSize: 5000, maxBatchSize: 800 }).batchSize).toBe(800);
  });

  it('adds basePauseMs on top of the adaptive pause', () => {
    const t = new AdaptiveThrottle({ basePauseMs: 25, targetLatencyMs: 100 });
    expect(t.pauseMs).toBe(25);
    expect(fed(t, 500).pauseMs).toBe(35);
  });

  it('keeps a batch of one able to grow', () => {
    const t = fed(new AdaptiveThrottle({ minBatchSize: 1, initialBatchSize: 1, targetLatencyMs: 100 }), 1);
    expect(t.batchSize).toBe(2);
  });

  it.each<[string, ThrottleOptions, RegExp]>([
    ['minBatchSize larger than maxBatchSize', { minBatchSize: 100, maxBatchSize: 10 }, /minBatchSize \(100\) is larger than maxBatchSize \(10\)/],
    ['a zero target latency', { targetLatencyMs: 0 }, /targetLatencyMs must be positive, got 0/],
    ['a NaN target latency', { targetLatencyMs: Number.NaN }, /targetLatencyMs must be positive/],
    ['a zero minBatchSize, which could stall on empty batches', { minBatchSize: 0 }, /minBatchSize must be an integer >= 1, got 0/],
    ['a fractional minBatchSize', { minBatchSize: 2.5 }, /minBatchSize must be an integer >= 1/],
    ['a fractional maxBatchSize', { maxBatchSize: 99.5 }, /maxBatchSize must be an integer/],
    ['a NaN initialBatchSize', { initialBatchSize: Number.NaN }, /initialBatchSize must be a positive number/],
    ['a negative maxPauseMs', { maxPauseMs: -1 }, /maxPauseMs must be >= 0, got -1/],
    ['a negative basePauseMs', { basePauseMs: -5 }, /basePauseMs must be >= 0, got -5/],
  ])('rejects %s', (_what, options, says) => {
    expect(() => new AdaptiveThrottle(options)).toThrow(says);
  });
});
