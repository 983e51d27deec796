import { emptyRequestLog } from './load.model';
import type { LoadResultMessage } from './load.protocol';
import { DemoFacts, FaultRecord, buildReport, judge, renderSummary } from './report';

const t0 = Date.parse('2026-01-01T00:00:00Z');
const at = (s: number) => new Date(t0 + s * 1000).toISOString();

function load(statuses: number[]): LoadResultMessage {
  const log = emptyRequestLog();
  statuses.forEach((s, i) => {
    log.startMs.push(i * 100);
    log.latencyMs.push(10 + i);
    log.status.push(s);
    log.kind.push(i % 4);
  });
  return {
    type: 'result',
    startedAt: t0,
    log,
    acked: [],
    writes: { seeded: 10, created: 2, updated: 3, unknownOutcome: 0, customers: 12 },
    reads: { compared: 5, mismatches: 0, examples: [] },
    notSent: 0,
    abandoned: 0,
  };
}

const faults: FaultRecord[] = [
  { kind: 'unleash-unreachable', at: at(1), endedAt: at(2), detail: 'cut' },
  { kind: 'instance-stopped', at: at(2), detail: 'SIGTERM' },
  { kind: 'runner-killed', at: at(3), detail: 'SIGKILL' },
  { kind: 'store-stalled', at: at(4), endedAt: at(4.02), detail: 'SIGSTOP for 2 s' },
];

function facts(over: Partial<DemoFacts> = {}): DemoFacts {
  return {
    startedAt: at(0),
    endedAt: at(100),
    options: { docs: 10, rps: 10, port: 8080, instances: 2 },
    machine: { cpus: 2, node: '24', platform: 'linux x64' },
    builds: { blue: { build: 'b', description: 'blue' }, green: { build: 'g', description: 'green' } },
    services: 'mongo=FerretDB',
    stages: [{ name: 'seed', startedAt: at(0), endedAt: at(1) }],
    phases: [
      { name: 'expand', migration: 'customers.full-name', startedAt: at(0), endedAt: at(0.2) },
      { name: 'backfill', migration: 'customers.full-name', startedAt: at(0.2), endedAt: at(1) },
    ],
    migrations: [],
    load: load([200, 201, 200, 200, 200, 200]),
    readBack: { checked: 12, lostWrites: 0, examples: [], fullNameMismatches: 0, retries: 0, durationMs: 50 },
    census: { total: 12, atFinalVersion: 12, withOldFields: 0, byVersion: { '3': 12 } },
    finalVersion: 3,
    faults,
    loadBalancer: { reloads: 2, endpointEvents: [], retriedRequests: 0, upstreamErrors: 0 },
    audit: { entries: 5, byAction: { phase: 5 } },
    incomplete: null,
    notes: [],
    ...over,
  };
}

describe('judge', () => {
  it('passes a run with no failure, no lost write, every document final and every fault injected', () => {
    expect(judge(facts(), 0)).toEqual([]);
  });

  it('names every broken promise', () => {
    const f = facts({
      readBack: { checked: 12, lostWrites: 2, examples: [], fullNameMismatches: 1, retries: 0, durationMs: 5 },
      census: { total: 12, atFinalVersion: 10, withOldFields: 3, byVersion: {} },
      faults: faults.slice(1, 3),
      incomplete: 'the migrations did not complete within 900 s (last phase: backfill)',
    });
    expect(judge(f, 4)).toEqual([
      'the migrations did not complete within 900 s (last phase: backfill)',
      '4 request(s) failed',
      '2 acknowledged write(s) did not read back',
      "1 customer(s) have a fullName that is not their names joined",
      '2 of 12 document(s) are not at v3',
      '3 document(s) still carry old fields',
      'fault unleash-unreachable was not injected',
      'fault store-stalled was not injected',
    ]);
  });
});

describe('buildReport', () => {
  it('holds the fields the issue asks for, computed from the request log', () => {
    const r = buildReport(facts({ load: load([200, 0, 503, 200]) }));
    expect(r.ok).toBe(false);
    expect(r.failures).toEqual(['2 request(s) failed']);
    expect(r.requests).toMatchObject({ total: 4, failed: 2, byStatus: { '200': 2, '0': 1, '503': 1 } });
    expect(r.lostWrites).toBe(0);
    expect(r.latencyMs).toMatchObject({ p50: 11, p99: 13, perPhase: { expand: { requests: 2 }, backfill: { requests: 2 } } });
    expect(r.phases.map((p) => p.name)).toEqual(['expand', 'backfill']);
    expect(r.documents).toEqual({ total: 12, atFinalVersion: 12, withOldFields: 0, byVersion: { '3': 12 }, finalVersion: 3, notAcknowledged: 0 });
    expect(r.faultsInjected.map((f) => f.kind)).toEqual(['unleash-unreachable', 'instance-stopped', 'runner-killed', 'store-stalled']);
    expect(r.durationSec).toBe(100);
  });

  it('renders a summary that states the verdict and links the chart', () => {
    const md = renderSummary(buildReport(facts()), 'latest.svg');
    expect(md).toMatch(/^# .*: PASSED/);
    expect(md).toContain('![requests, failures and p99 latency per second, with the phases](latest.svg)');
    expect(md).toContain('| every request succeeded | 6 of 6 (0 failed) |');
    expect(md).toContain('| every document at v3 | 12 of 12 |');
    expect(md).toContain('**runner-killed**');
  });
});
