import { BatchEvent } from '@zdm/migrations-core';
import { memoryStream as sink } from '../testing/streams.fixture';
import { HumanReporter, JsonReporter } from './reporter';

const batch = (done: number, total: number): BatchEvent => ({
  jobKey: 'a:backfill',
  batch: 1,
  read: 10,
  written: 9,
  skipped: 1,
  conflicts: 0,
  quarantined: 0,
  latencyMs: 3,
  batchSize: 10,
  pauseMs: 0,
  progress: { done, total, remaining: total - done, ratePerSec: 100, etaSec: 1, elapsedMs: 100 },
});

describe('JsonReporter', () => {
  it('writes one parseable JSON object per line, ending with a result line', () => {
    const out = sink();
    const r = new JsonReporter(out, () => new Date('2030-01-01T00:00:00Z'));
    r.event('job-start', { id: 'a' }, 'ignored text');
    r.progress('backfill', 'a', batch(10, 20));
    r.result('start', 0, { id: 'a' }, 'ignored');
    const lines = out.text().trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(lines).toEqual([
      { event: 'job-start', at: '2030-01-01T00:00:00.000Z', id: 'a' },
      expect.objectContaining({ event: 'progress', id: 'a', job: 'backfill', done: 10, total: 20, ratePerSec: 100, etaSec: 1, written: 9 }),
      { event: 'result', command: 'start', ok: true, exitCode: 0, id: 'a' },
    ]);
  });

  it('reports an error as a failed result line with the message and details', () => {
    const out = sink();
    new JsonReporter(out).error('advance', 3, 'refused', { failingGates: [{ gate: 'g', detail: 'd' }] });
    expect(JSON.parse(out.text())).toEqual({ event: 'result', command: 'advance', ok: false, exitCode: 3, error: 'refused', failingGates: [{ gate: 'g', detail: 'd' }] });
  });
});

describe('HumanReporter', () => {
  it('redraws the bar on a terminal at most every 100 ms, always drawing the last batch', () => {
    const out = sink(true);
    const err = sink(true);
    let t = 0;
    const r = new HumanReporter(out, err, () => t);
    r.progress('backfill', 'a', batch(10, 30));
    t = 50;
    r.progress('backfill', 'a', batch(20, 30));
    t = 60;
    r.progress('backfill', 'a', batch(30, 30));
    expect(err.chunks).toHaveLength(2);
    expect(err.chunks[1]).toContain('30/30');
    r.result('start', 0, {}, 'done');
    expect(err.chunks[2]).toBe('\n');
    expect(out.text()).toBe('done\n');
  });

  it('draws no bar when stderr is not a terminal', () => {
    const err = sink(false);
    new HumanReporter(sink(true), err).progress('backfill', 'a', batch(1, 2));
    expect(err.chunks).toEqual([]);
  });

  it('prints errors on stderr prefixed with zdm', () => {
    const err = sink(true);
    new HumanReporter(sink(true), err).error('x', 2, 'bad config');
    expect(err.text()).toBe('zdm: bad config\n');
  });
});
