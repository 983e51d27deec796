import { ProgressTracker } from './progress';

/** A tracker on a clock the spec moves by hand; `after(ms, count)` lets `ms` pass, then finishes `count` items. */
function tracked(total: number, done = 0) {
  let now = 1_000;
  const progress = new ProgressTracker(total, done, () => now);
  const after = (ms: number, count: number) => {
    now += ms;
    progress.add(count);
  };
  return { progress, after };
}

describe('ProgressTracker', () => {
  it('knows no rate and no ETA before the first items are done', () => {
    expect(tracked(100).progress.snapshot()).toEqual({
      done: 0,
      total: 100,
      remaining: 100,
      ratePerSec: 0,
      etaSec: null,
      elapsedMs: 0,
    });
  });

  it('derives the rate from the first batch and the ETA from what remains', () => {
    const { progress, after } = tracked(100);
    after(2_000, 20);
    expect(progress.snapshot()).toEqual({ done: 20, total: 100, remaining: 80, ratePerSec: 10, etaSec: 8, elapsedMs: 2_000 });
  });

  it('smooths the rate over batches, weighting the newest by 30%', () => {
    const { progress, after } = tracked(100);
    after(1_000, 10);
    after(500, 10);
    // 10/s then 20/s: 0.7 * 10 + 0.3 * 20 = 13/s; 80 left -> ceil(80 / 13) = 7 s.
    expect(progress.snapshot()).toMatchObject({ done: 20, ratePerSec: 13, etaSec: 7, elapsedMs: 1_500 });
  });

  it('counts items finished in the same instant without dividing by zero', () => {
    const { progress, after } = tracked(10);
    after(1_000, 2);
    after(0, 3);
    expect(progress.snapshot()).toMatchObject({ done: 5, remaining: 5, ratePerSec: 2, etaSec: 3 });
  });

  it('starts from the items already done when a job resumes', () => {
    const { progress, after } = tracked(100, 60);
    expect(progress.snapshot()).toMatchObject({ done: 60, remaining: 40, etaSec: null });
    after(1_000, 40);
    expect(progress.snapshot()).toMatchObject({ done: 100, remaining: 0, etaSec: 0 });
  });

  it('raises the total when more is done than was counted', () => {
    const { progress, after } = tracked(5);
    after(100, 8);
    expect(progress.snapshot()).toMatchObject({ done: 8, total: 8, remaining: 0, etaSec: 0 });
  });

  it('grows the total when another pass finds more work', () => {
    const { progress, after } = tracked(10);
    after(1_000, 10);
    progress.grow(5);
    expect(progress.snapshot()).toMatchObject({ done: 10, total: 15, remaining: 5, etaSec: 1 });
  });

  it('reports an ETA of zero for an empty job', () => {
    expect(tracked(0).progress.snapshot().etaSec).toBe(0);
  });

  it('uses the real clock when none is injected', () => {
    const snapshot = new ProgressTracker(1).snapshot();
    expect(snapshot.elapsedMs).toBeGreaterThanOrEqual(0);
    expect(snapshot.elapsedMs).toBeLessThan(1_000);
  });
});
