import { ManualClock } from './manual-clock';

describe('ManualClock', () => {
  it('stands still until advanced, then wakes each sleep at its instant, in time order', async () => {
    const clock = new ManualClock(1_000);
    const woke: string[] = [];
    void clock.sleep(300).then(() => woke.push(`b@${clock.now()}`));
    void clock.sleep(100).then(() => woke.push(`a@${clock.now()}`));
    await clock.advance(99);
    expect(woke).toEqual([]);
    expect(clock.now()).toBe(1_099);
    await clock.advance(1_000);
    expect(woke).toEqual(['a@1100', 'b@1300']);
    expect(clock.now()).toBe(2_099);
    expect(clock.pending).toBe(0);
  });

  it('runs what a woken sleep schedules next within the same advance', async () => {
    const clock = new ManualClock(0);
    const at: number[] = [];
    const loop = async () => {
      for (let i = 0; i < 3; i++) {
        await clock.sleep(50);
        at.push(clock.now());
      }
    };
    const done = loop();
    await clock.advance(200);
    await done;
    expect(at).toEqual([50, 100, 150]);
  });

  it('repeats an interval every period until it is cancelled', async () => {
    const clock = new ManualClock(0);
    const ticks: number[] = [];
    const cancel = clock.every(100, () => ticks.push(clock.now()));
    await clock.advance(350);
    cancel();
    await clock.advance(500);
    expect(ticks).toEqual([100, 200, 300]);
    expect(clock.pending).toBe(0);
  });
});
