import { RequestLog } from './load.model';
import { countByKind, countByStatus, latencyPerSpan, perSecond, percentile, spanAt, summarize } from './stats';

const log = (rows: [number, number, number, number][]): RequestLog => ({
  kinds: ['customers.read', 'customers.list', 'customers.create', 'customers.update'],
  startMs: rows.map((r) => r[0]),
  latencyMs: rows.map((r) => r[1]),
  status: rows.map((r) => r[2]),
  kind: rows.map((r) => r[3]),
});

describe('percentile', () => {
  it('is the nearest rank of an ascending list', () => {
    const list = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(list, 50)).toBe(50);
    expect(percentile(list, 99)).toBe(99);
    expect(percentile(list, 100)).toBe(100);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBe(0);
  });

  it('summarizes unsorted latencies', () => {
    expect(summarize([5, 1, 3, 2, 4])).toEqual({ p50: 3, p90: 5, p99: 5, max: 5, requests: 5 });
  });
});

describe('counting requests', () => {
  const l = log([
    [0, 5, 200, 0],
    [10, 7, 201, 2],
    [20, 9, 0, 3],
    [1500, 11, 502, 0],
  ]);

  it('counts by status, with 0 for no answer', () => {
    expect(countByStatus(l)).toEqual({ '200': 1, '201': 1, '0': 1, '502': 1 });
  });

  it('counts totals and failures by kind', () => {
    expect(countByKind(l)).toEqual({
      'customers.read': { total: 2, failed: 1 },
      'customers.list': { total: 0, failed: 0 },
      'customers.create': { total: 1, failed: 0 },
      'customers.update': { total: 1, failed: 1 },
    });
  });

  it('buckets by second of start, zeros included', () => {
    const seconds = perSecond(log([...Array.from({ length: 3 }, (_, i) => [i * 100, 10 + i, 200, 0] as [number, number, number, number]), [2500, 40, 503, 0]]));
    expect(seconds).toEqual([
      { t: 0, requests: 3, failed: 0, p99: 12 },
      { t: 1, requests: 0, failed: 0, p99: 0 },
      { t: 2, requests: 1, failed: 1, p99: 40 },
    ]);
  });
});

describe('spans', () => {
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  const spans = [
    { name: 'expand', startedAt: '2026-01-01T00:00:00.000Z', endedAt: '2026-01-01T00:00:01.000Z' },
    { name: 'dual-write', startedAt: '2026-01-01T00:00:01.000Z', endedAt: '2026-01-01T00:00:03.000Z' },
  ];

  it('finds the span holding a moment, start included and end excluded', () => {
    expect(spanAt(spans, t0)?.name).toBe('expand');
    expect(spanAt(spans, t0 + 1000)?.name).toBe('dual-write');
    expect(spanAt(spans, t0 + 3000)).toBeNull();
  });

  it('summarizes latency per span by request start, leaving out requests outside every span', () => {
    const per = latencyPerSpan(log([[100, 4, 200, 0], [900, 6, 200, 0], [1500, 20, 200, 0], [5000, 999, 200, 0]]), t0, spans);
    expect(per['expand']).toMatchObject({ requests: 2, p50: 4, p99: 6 });
    expect(per['dual-write']).toMatchObject({ requests: 1, p99: 20 });
  });
});
