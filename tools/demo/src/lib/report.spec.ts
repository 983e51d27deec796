import { emptyRequestLog, logRequest } from './load.model';
import type { LoadResultMessage } from './load.protocol';
import { DemoFacts, FaultRecord, ServiceFacts, buildReport, failedRequestLines, faultKinds, judge, renderSummary, serviceLines } from './report';

const t0 = Date.parse('2026-01-01T00:00:00Z');
const at = (s: number) => new Date(t0 + s * 1000).toISOString();

/** A load with one request per status, 100 ms apart: customers' first, then orders'. */
function load(customers: number[], orders: number[] = []): LoadResultMessage {
  const log = emptyRequestLog();
  [...customers.map((s) => ['customers.read', s] as const), ...orders.map((s) => ['orders.place', s] as const)].forEach(([kind, status], i) =>
    logRequest(log, kind, i * 100, 10 + i, status),
  );
  const traffic = (documents: number) => ({
    acked: [],
    writes: { seeded: documents - 2, created: 2, updated: 3, unknownOutcome: 0, documents },
    reads: { compared: 5, mismatches: 0, examples: [] },
  });
  return { type: 'result', startedAt: t0, log, services: { customers: traffic(12), orders: traffic(8) }, notSent: 0, abandoned: 0 };
}

const faults: FaultRecord[] = [
  { kind: 'unleash-unreachable', at: at(1), endedAt: at(2), detail: 'cut' },
  { kind: 'instance-stopped', service: 'customers', at: at(2), detail: 'SIGTERM' },
  { kind: 'instance-stopped', service: 'orders', at: at(2.5), detail: 'SIGTERM' },
  { kind: 'runner-killed', service: 'customers', at: at(3), detail: 'SIGKILL' },
  { kind: 'store-stalled', at: at(4), endedAt: at(4.02), detail: 'SIGSTOP for 2 s' },
];

function service(name: string, over: Partial<ServiceFacts> = {}): ServiceFacts {
  const migration = name === 'customers' ? 'customers.full-name' : 'orders.money';
  const total = name === 'customers' ? 12 : 8;
  return {
    name,
    builds: { blue: { build: `${name}-v1`, description: 'blue' }, green: { build: `${name}-v2`, description: 'green' } },
    migrations: [],
    phases: [
      { name: `${migration.split('.')[1]}:expand`, migration, startedAt: at(0), endedAt: at(0.2) },
      { name: `${migration.split('.')[1]}:backfill`, migration, startedAt: at(0.2), endedAt: at(1) },
    ],
    readBack: { checked: total, lostWrites: 0, examples: [], inconsistent: 0, retries: 0, durationMs: 50 },
    census: { total, atFinalVersion: total, withOldFields: 0, byVersion: { '2': total } },
    finalVersion: 2,
    quarantine: { found: 0, fixed: 0, open: 0, reasons: {} },
    inconsistency: name === 'customers' ? 'customer(s) have a fullName that is not their names joined' : 'order(s) whose amount disagrees with their total',
    ...over,
  };
}

function facts(over: Partial<DemoFacts> = {}): DemoFacts {
  return {
    startedAt: at(0),
    endedAt: at(100),
    options: { docs: 10, rps: 10, port: 8080, instances: 2 },
    machine: { cpus: 2, node: '24', platform: 'linux x64' },
    backing: 'mongo=FerretDB',
    stages: [{ name: 'seed', startedAt: at(0), endedAt: at(1) }],
    services: [service('customers'), service('orders', { quarantine: { found: 3, fixed: 3, open: 0, reasons: { 'more decimals than EUR allows': 3 } } })],
    load: load([200, 201, 200, 200, 200, 200], [201, 200]),
    faults,
    loadBalancer: { reloads: 2, endpointEvents: [], retriedRequests: 0, upstreamErrors: 0 },
    audit: { entries: 5, byAction: { phase: 5 } },
    incomplete: null,
    notes: [],
    ...over,
  };
}

describe('judge', () => {
  it('passes a run with no failure, no lost write, every document final, no open quarantine and every fault injected', () => {
    expect(judge(facts())).toEqual([]);
  });

  it('names every broken promise, with the service it broke for', () => {
    const f = facts({
      services: [
        service('customers', {
          readBack: { checked: 12, lostWrites: 2, examples: [], inconsistent: 1, retries: 0, durationMs: 5 },
          census: { total: 12, atFinalVersion: 10, withOldFields: 3, byVersion: {} },
          finalVersion: 3,
        }),
        service('orders', { quarantine: { found: 3, fixed: 1, open: 2, reasons: {} } }),
      ],
      load: load([200, 0, 503, 200], [500]),
      faults: faults.slice(1, 4),
      incomplete: 'the migrations did not complete within 900 s (open phases: orders money:verify)',
    });
    expect(judge(f)).toEqual([
      'the migrations did not complete within 900 s (open phases: orders money:verify)',
      'customers: 2 request(s) failed: 1 × customers.read no answer (first at 0.1 s), 1 × customers.read 503 (first at 0.2 s)',
      'customers: 2 acknowledged write(s) did not read back',
      'customers: 1 customer(s) have a fullName that is not their names joined',
      'customers: 2 of 12 document(s) are not at v3',
      'customers: 3 document(s) still carry old fields',
      'orders: 1 request(s) failed: 1 × orders.place 500 (first at 0.4 s)',
      'orders: 2 document(s) still quarantined',
      'fault unleash-unreachable was not injected',
      'fault store-stalled was not injected',
    ]);
  });
});

describe('the load\'s sessions', () => {
  const sessions = { users: 8, registered: 8, logins: 8, refreshes: 40, refreshesRefused: 0, unauthorizedWithValidToken: 0, retriedAfterRefresh: 0, withoutToken: 0, examples: [] };

  it('pass with no 401 to a valid token, and the report says so next to the logins and refreshes', () => {
    const f = facts({ load: { ...facts().load, auth: sessions } });
    expect(judge(f)).toEqual([]);
    const r = buildReport(f);
    expect(r.sessions).toEqual(sessions);
    expect(renderSummary(r, 'latest.svg')).toContain('**No valid token refused:** 0 write(s) answered 401 to an access token that was not past its expiry (must be 0).');
  });

  it('fail the run for every 401 to a valid token and every write that could not get a token', () => {
    const example = { atMs: 1200, request: 'PATCH /customers/1', secondsLeft: 12.5, message: 'the token signature is not valid' };
    const f = facts({ load: { ...facts().load, auth: { ...sessions, unauthorizedWithValidToken: 2, withoutToken: 1, examples: [example] } } });
    expect(judge(f)).toEqual(['2 write(s) answered 401 to an access token that was still valid', '1 write(s) could not be sent: no access token could be had from the auth hub']);
    expect(renderSummary(buildReport(f), 'latest.svg')).toContain('- PATCH /customers/1 at 1,200 ms, 12.5 s before expiry: the token signature is not valid');
  });
});

describe('buildReport', () => {
  it('holds the totals and one section per service, computed from the request log', () => {
    const r = buildReport(facts({ load: load([200, 0, 503, 200], [201, 200]) }));
    expect(r.ok).toBe(false);
    expect(r.failures).toEqual(['customers: 2 request(s) failed: 1 × customers.read no answer (first at 0.1 s), 1 × customers.read 503 (first at 0.2 s)']);
    expect(r.requests).toMatchObject({ total: 6, failed: 2, byStatus: { '200': 3, '201': 1, '0': 1, '503': 1 } });
    expect(r.lostWrites).toBe(0);
    const [customers, orders] = r.services;
    expect(customers.requests).toMatchObject({ total: 4, failed: 2, byKind: { 'customers.read': { total: 4, failed: 2 } } });
    expect(orders.requests).toMatchObject({ total: 2, failed: 0 });
    expect(customers.latencyMs).toMatchObject({ p50: 11, p99: 13, perPhase: { 'full-name:expand': { requests: 2 }, 'full-name:backfill': { requests: 2 } } });
    // Orders' phases count orders' requests only (at 400 and 500 ms: backfill).
    expect(orders.latencyMs.perPhase).toMatchObject({ 'money:expand': { requests: 0 }, 'money:backfill': { requests: 2 } });
    expect(orders.phases.map((p) => p.name)).toEqual(['money:expand', 'money:backfill']);
    expect(customers.documents).toEqual({ total: 12, atFinalVersion: 12, withOldFields: 0, byVersion: { '2': 12 }, finalVersion: 2, notAcknowledged: 0 });
    expect(orders.acknowledgedWrites).toEqual({ seeded: 6, created: 2, updated: 3, unknownOutcome: 0, documents: 8, checked: 8, lost: 0 });
    expect(orders.quarantine).toEqual({ found: 3, fixed: 3, open: 0, reasons: { 'more decimals than EUR allows': 3 } });
    expect(r.durationSec).toBe(100);
  });

  it('renders a summary that states the verdict, links the chart and has a column and a section per service', () => {
    const r = buildReport(facts());
    const md = renderSummary(r, 'latest.svg');
    expect(md).toMatch(/^# Blue-green migration of customers and orders under load: PASSED/);
    expect(md).toContain('![requests, failures and p99 latency per second, with the phases](latest.svg)');
    expect(md).toContain('| promise | customers | orders |');
    expect(md).toContain('| every request succeeded | 6 of 6 (0 failed) | 2 of 2 (0 failed) |');
    expect(md).toContain('| quarantined documents fixed | 0 quarantined, 0 fixed, 0 open | 3 quarantined, 3 fixed, 0 open |');
    expect(md).toContain('## orders');
    expect(md).toContain('| money:backfill | orders.money |');
    expect(md).toContain('**runner-killed** (customers)');
    expect(serviceLines(r)[1]).toBe('orders: 2 requests, 0 failed, 0 lost of 8 acknowledged, 8/8 documents at v2, 0 with old fields, quarantined 3 (fixed 3, open 0)');
  });

  it('keeps the first failed requests with their answers, in latest.json and in the summary', () => {
    const failed = load([200, 0, 503, 503, 200]);
    failed.failedExamples = [
      { atMs: 100, method: 'PATCH', path: '/customers/a1', status: 0, answer: 'no answer' },
      { atMs: 200, method: 'POST', path: '/customers', status: 503, answer: '{"dependency":"mongo"}' },
    ];
    const r = buildReport(facts({ load: failed }));
    expect(r.requests.failedExamples).toHaveLength(2);
    expect(failedRequestLines(r)).toEqual([
      'at 0.1 s: PATCH /customers/a1 -> no answer',
      'at 0.2 s: POST /customers -> 503 {"dependency":"mongo"}',
      '(1 more; latest.json keeps the first 2)',
    ]);
    expect(renderSummary(r, 'latest.svg')).toContain('- `at 0.2 s: POST /customers -> 503 {"dependency":"mongo"}`');
    expect(failedRequestLines(buildReport(facts()))).toEqual([]);
  });

  it('names the services each fault was done to', () => {
    expect(faultKinds(faults)).toEqual(['unleash-unreachable', 'instance-stopped (customers, orders)', 'runner-killed (customers)', 'store-stalled']);
  });
});
