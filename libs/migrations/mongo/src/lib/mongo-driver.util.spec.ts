import { mapConcurrently } from './mongo-driver.util';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('mapConcurrently', () => {
  it('keeps the items’ order and never has more than `limit` calls in flight', async () => {
    let inFlight = 0;
    let most = 0;
    const results = await mapConcurrently([30, 5, 20, 1, 15, 2, 9, 4, 11, 3], 3, async (ms) => {
      most = Math.max(most, ++inFlight);
      await tick(ms);
      inFlight--;
      return ms * 2;
    });
    expect(results).toEqual([60, 10, 40, 2, 30, 4, 18, 8, 22, 6]);
    expect(most).toBe(3);
  });

  it('rejects with the first failure, starts nothing after it, and lets the started calls settle', async () => {
    const started: number[] = [];
    const settled: number[] = [];
    const run = mapConcurrently([1, 2, 3, 4, 5, 6], 2, async (n) => {
      started.push(n);
      await tick(n === 2 ? 1 : 10);
      if (n === 2) throw new Error('item 2 failed');
      settled.push(n);
      return n;
    });
    await expect(run).rejects.toThrow('item 2 failed');
    expect(started).toEqual([1, 2]);
    expect(settled).toEqual([1]);
  });

  it('resolves an empty list without calling work', async () => {
    const work = jest.fn();
    expect(await mapConcurrently([], 8, work)).toEqual([]);
    expect(work).not.toHaveBeenCalled();
  });
});
