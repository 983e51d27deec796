import { formatCount, formatDuration, formatRate, renderProgressBar } from './progress-bar';

describe('progress bar', () => {
  it('formats counts with thousands separators', () => {
    expect(formatCount(0)).toBe('0');
    expect(formatCount(1234567)).toBe('1,234,567');
  });

  it('formats rates compactly at every magnitude', () => {
    expect(formatRate(0)).toBe('0/s');
    expect(formatRate(Number.NaN)).toBe('0/s');
    expect(formatRate(2.345)).toBe('2.3/s');
    expect(formatRate(850.4)).toBe('850/s');
    expect(formatRate(1234)).toBe('1.2k/s');
    expect(formatRate(45_600)).toBe('46k/s');
    expect(formatRate(2_500_000)).toBe('2.5M/s');
  });

  it('formats durations as m:ss or h:mm:ss and shows dashes while unknown', () => {
    expect(formatDuration(null)).toBe('--:--');
    expect(formatDuration(-1)).toBe('--:--');
    expect(formatDuration(4)).toBe('0:04');
    expect(formatDuration(65)).toBe('1:05');
    expect(formatDuration(3 * 3600 + 62)).toBe('3:01:02');
  });

  it('fills the bar in proportion to done/total and shows rate and ETA', () => {
    const line = renderProgressBar('backfill', { done: 500, total: 1000, ratePerSec: 1250, etaSec: 1 }, 80);
    const bar = /\[(█*)(░*)\]/.exec(line);
    expect(bar).not.toBeNull();
    const [, filled, empty] = bar as RegExpExecArray;
    expect(Math.abs(filled.length - empty.length)).toBeLessThanOrEqual(1);
    expect(filled.length + empty.length).toBeGreaterThanOrEqual(10);
    expect(line).toContain(' 50.0% 500/1,000 1.3k/s ETA 0:01');
    expect(line.length).toBeLessThanOrEqual(80);
  });

  it('never overflows when more items were done than first counted', () => {
    const line = renderProgressBar('x', { done: 120, total: 100, ratePerSec: 0, etaSec: null }, 60);
    expect(line).toContain('100.0% 120/120 0/s ETA --:--');
    expect(line).not.toContain('░');
  });

  it('shows a full bar for an empty job', () => {
    expect(renderProgressBar('x', { done: 0, total: 0, ratePerSec: 0, etaSec: 0 })).toContain('100.0% 0/0');
  });
});
