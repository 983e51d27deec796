import { RequestLog, isFailure } from './load.model';

/** A named span of wall-clock time (a migration phase, or a step of the demo). */
export interface Span {
  name: string;
  startedAt: string;
  endedAt: string;
}

/** Latency percentiles in ms. */
export interface LatencySummary {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  requests: number;
}

/** Nearest-rank percentile of an ascending list; 0 for an empty one. */
export function percentile(sorted: readonly number[], p: number): number {
  if (!sorted.length) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

const round = (ms: number) => Math.round(ms * 10) / 10;

export function summarize(latencies: readonly number[]): LatencySummary {
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    p50: round(percentile(sorted, 50)),
    p90: round(percentile(sorted, 90)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted.at(-1) ?? 0),
    requests: sorted.length,
  };
}

/** Requests per HTTP status (`"0"` for no answer). */
export function countByStatus(log: RequestLog): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const s of log.status) counts[String(s)] = (counts[String(s)] ?? 0) + 1;
  return counts;
}

/** Totals and failures per request kind. */
export function countByKind(log: RequestLog): Record<string, { total: number; failed: number }> {
  const out: Record<string, { total: number; failed: number }> = Object.fromEntries(log.kinds.map((k) => [k, { total: 0, failed: 0 }]));
  log.kind.forEach((k, i) => {
    const entry = out[log.kinds[k]];
    entry.total++;
    if (isFailure(log.status[i])) entry.failed++;
  });
  return out;
}

/** The span that contains `t` (epoch ms), or null. Spans are `[startedAt, endedAt)`. */
export function spanAt(spans: readonly Span[], t: number): Span | null {
  for (const s of spans) if (t >= Date.parse(s.startedAt) && t < Date.parse(s.endedAt)) return s;
  return null;
}

/**
 * Latency percentiles of the requests that started in each span; requests outside every span
 * are left out. `startedAt` is the epoch ms at which `log.startMs` is 0.
 */
export function latencyPerSpan(log: RequestLog, startedAt: number, spans: readonly Span[]): Record<string, LatencySummary> {
  const groups = new Map<string, number[]>(spans.map((s) => [s.name, []]));
  log.startMs.forEach((ms, i) => {
    const span = spanAt(spans, startedAt + ms);
    if (span) groups.get(span.name)?.push(log.latencyMs[i]);
  });
  return Object.fromEntries([...groups].map(([name, list]) => [name, summarize(list)]));
}

/** One second of the run. */
export interface SecondSample {
  /** Seconds since the load started. */
  t: number;
  requests: number;
  failed: number;
  p99: number;
}

/** Requests, failures and p99 latency per second of load (seconds without requests included, as zeros). */
export function perSecond(log: RequestLog): SecondSample[] {
  const buckets: number[][] = [];
  const failed: number[] = [];
  log.startMs.forEach((ms, i) => {
    const t = Math.floor(ms / 1000);
    (buckets[t] ??= []).push(log.latencyMs[i]);
    failed[t] = (failed[t] ?? 0) + (isFailure(log.status[i]) ? 1 : 0);
  });
  const out: SecondSample[] = [];
  for (let t = 0; t < buckets.length; t++) {
    const list = (buckets[t] ?? []).sort((a, b) => a - b);
    out.push({ t, requests: list.length, failed: failed[t] ?? 0, p99: round(percentile(list, 99)) });
  }
  return out;
}
