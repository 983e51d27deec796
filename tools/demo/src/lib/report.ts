import type { LoadResultMessage, ReadMismatch } from './load.protocol';
import type { EndpointEvent } from './endpoint.watcher';
import { LatencySummary, SecondSample, Span, countByKind, countByStatus, latencyPerSpan, perSecond, summarize } from './stats';
import type { DocumentCensus, LostWrite, ReadBack } from './verification';
import { isFailure } from './load.model';

/** One fault the demo injected, and what it did. */
export interface FaultRecord {
  kind: 'runner-killed' | 'instance-stopped' | 'unleash-unreachable' | 'store-stalled';
  at: string;
  /** When the fault was over (the service reachable again, the runner resumed, the replacement serving). */
  endedAt?: string;
  detail: string;
  [key: string]: unknown;
}

/** A migration the demo walked, and the phases it went through. */
export interface MigrationRecord {
  id: string;
  strategy: string;
  from: number;
  to: number;
  removedFields: string[];
  phases: Span[];
}

/** Everything the demo measured, before it is judged. */
export interface DemoFacts {
  startedAt: string;
  endedAt: string;
  options: { docs: number; rps: number; port: number; instances: number };
  machine: { cpus: number; node: string; platform: string };
  builds: { blue: { build: string; description: string }; green: { build: string; description: string } };
  services: string;
  /** Steps of the story (services, seed, blue, switch, ...). */
  stages: Span[];
  /** Every phase of every migration, in time order, without overlaps. */
  phases: (Span & { migration: string })[];
  migrations: MigrationRecord[];
  load: LoadResultMessage;
  readBack: ReadBack;
  census: DocumentCensus;
  finalVersion: number;
  faults: FaultRecord[];
  loadBalancer: { reloads: number; endpointEvents: EndpointEvent[]; retriedRequests: number; upstreamErrors: number };
  audit: { entries: number; byAction: Record<string, number> };
  /** Why the migrations did not reach complete, when they did not. */
  incomplete: string | null;
  /** Free-form notes for the reader (e.g. store tuning applied). */
  notes: string[];
}

/** The content of reports/demo/latest.json. */
export interface DemoReport {
  ok: boolean;
  /** Why the run failed, one line per broken promise; empty when it passed. */
  failures: string[];
  startedAt: string;
  endedAt: string;
  durationSec: number;
  options: DemoFacts['options'];
  machine: DemoFacts['machine'];
  builds: DemoFacts['builds'];
  services: string;
  requests: {
    total: number;
    failed: number;
    byStatus: Record<string, number>;
    byKind: Record<string, { total: number; failed: number }>;
    /** Requests per second actually started (total / load seconds). */
    achievedRps: number;
    /** Due while the client had too many open requests (client overload, not server failures). */
    notSent: number;
  };
  lostWrites: number;
  lostWriteExamples: LostWrite[];
  acknowledgedWrites: { seeded: number; created: number; updated: number; unknownOutcome: number; checked: number };
  reads: { comparedWithLastWrite: number; mismatches: number; examples: ReadMismatch[] };
  readBack: Omit<ReadBack, 'examples' | 'lostWrites' | 'checked'>;
  latencyMs: LatencySummary & { perPhase: Record<string, LatencySummary> };
  /** Requests, failures and p99 latency per second of load (second 0 = `loadStartedAt`), as the chart draws them. */
  perSecond: SecondSample[];
  loadStartedAt: string;
  phases: (Span & { migration: string })[];
  stages: Span[];
  migrations: MigrationRecord[];
  documents: DocumentCensus & {
    finalVersion: number;
    /** Stored customers the load never got an acknowledgement for (creates whose answer was lost). */
    notAcknowledged: number;
  };
  faultsInjected: FaultRecord[];
  loadBalancer: DemoFacts['loadBalancer'];
  audit: DemoFacts['audit'];
  notes: string[];
}

const FAULT_KINDS: FaultRecord['kind'][] = ['runner-killed', 'instance-stopped', 'unleash-unreachable', 'store-stalled'];

/** Every promise of the demo that the facts break; empty when the run proves zero downtime. */
export function judge(f: Pick<DemoFacts, 'load' | 'readBack' | 'census' | 'finalVersion' | 'faults' | 'incomplete'>, failed: number): string[] {
  const problems: string[] = [];
  if (f.incomplete) problems.push(f.incomplete);
  if (failed > 0) problems.push(`${failed} request(s) failed`);
  if (f.load.abandoned > 0) problems.push(`${f.load.abandoned} request(s) never answered`);
  if (f.readBack.lostWrites > 0) problems.push(`${f.readBack.lostWrites} acknowledged write(s) did not read back`);
  if (f.load.reads.mismatches > 0) problems.push(`${f.load.reads.mismatches} read(s) returned something other than the last acknowledged write`);
  if (f.readBack.fullNameMismatches > 0) problems.push(`${f.readBack.fullNameMismatches} customer(s) have a fullName that is not their names joined`);
  const { total, atFinalVersion, withOldFields } = f.census;
  if (atFinalVersion !== total) problems.push(`${total - atFinalVersion} of ${total} document(s) are not at v${f.finalVersion}`);
  if (withOldFields > 0) problems.push(`${withOldFields} document(s) still carry old fields`);
  for (const kind of FAULT_KINDS) if (!f.faults.some((x) => x.kind === kind)) problems.push(`fault ${kind} was not injected`);
  return problems;
}

/** Builds latest.json from the facts. */
export function buildReport(f: DemoFacts): DemoReport {
  const { log } = f.load;
  const failed = log.status.filter(isFailure).length;
  const loadSeconds = log.startMs.length ? (log.startMs[log.startMs.length - 1] + 1) / 1000 : 0;
  const overall = summarize(log.latencyMs);
  const failures = judge(f, failed);
  const { examples: _examples, lostWrites, checked, ...readBack } = f.readBack;
  return {
    ok: failures.length === 0,
    failures,
    startedAt: f.startedAt,
    endedAt: f.endedAt,
    durationSec: Math.round((Date.parse(f.endedAt) - Date.parse(f.startedAt)) / 100) / 10,
    options: f.options,
    machine: f.machine,
    builds: f.builds,
    services: f.services,
    requests: {
      total: log.status.length,
      failed,
      byStatus: countByStatus(log),
      byKind: countByKind(log),
      achievedRps: loadSeconds ? Math.round((log.status.length / loadSeconds) * 10) / 10 : 0,
      notSent: f.load.notSent,
    },
    lostWrites,
    lostWriteExamples: f.readBack.examples,
    acknowledgedWrites: { ...f.load.writes, checked },
    reads: { comparedWithLastWrite: f.load.reads.compared, mismatches: f.load.reads.mismatches, examples: f.load.reads.examples },
    readBack,
    latencyMs: { ...overall, perPhase: latencyPerSpan(log, f.load.startedAt, f.phases) },
    perSecond: perSecond(log),
    loadStartedAt: new Date(f.load.startedAt).toISOString(),
    phases: f.phases,
    stages: f.stages,
    migrations: f.migrations,
    documents: { ...f.census, finalVersion: f.finalVersion, notAcknowledged: Math.max(0, f.census.total - f.load.writes.customers) },
    faultsInjected: f.faults,
    loadBalancer: f.loadBalancer,
    audit: f.audit,
    notes: f.notes,
  };
}

const n = (v: number) => v.toLocaleString('en-US');
const sec = (a: string, b: string) => `${((Date.parse(b) - Date.parse(a)) / 1000).toFixed(1)} s`;

/** The markdown summary beside latest.json. */
export function renderSummary(r: DemoReport, chartFile: string): string {
  const lines: string[] = [];
  lines.push(`# Blue-green migration of the customers service under load: ${r.ok ? 'PASSED' : 'FAILED'}`, '');
  lines.push(
    `${r.startedAt} · ${r.durationSec} s · ${n(r.options.docs)} customers seeded · ${r.options.rps} req/s asked (${r.requests.achievedRps} started) · ` +
      `${r.machine.cpus} CPUs, Node ${r.machine.node}`,
    '',
  );
  if (!r.ok) lines.push('**What failed:**', '', ...r.failures.map((f) => `- ${f}`), '');
  lines.push(`![requests, failures and p99 latency per second, with the phases](${chartFile})`, '');
  lines.push('| promise | result |', '| --- | --- |');
  lines.push(`| every request succeeded | ${n(r.requests.total - r.requests.failed)} of ${n(r.requests.total)} (${n(r.requests.failed)} failed) |`);
  lines.push(`| every acknowledged write reads back | ${n(r.acknowledgedWrites.checked - r.lostWrites)} of ${n(r.acknowledgedWrites.checked)} (${n(r.lostWrites)} lost) |`);
  lines.push(`| reads return the last acknowledged write | ${n(r.reads.comparedWithLastWrite - r.reads.mismatches)} of ${n(r.reads.comparedWithLastWrite)} compared |`);
  lines.push(`| every document at v${r.documents.finalVersion} | ${n(r.documents.atFinalVersion)} of ${n(r.documents.total)} |`);
  lines.push(`| old fields removed | ${n(r.documents.withOldFields)} document(s) still carry them |`);
  lines.push(`| faults injected | ${r.faultsInjected.map((f) => f.kind).join(', ') || 'none'} |`, '');
  lines.push('## Requests', '');
  lines.push(`By status: ${Object.entries(r.requests.byStatus).map(([s, c]) => `${s === '0' ? 'no answer' : s} × ${n(c)}`).join(', ')}.`);
  lines.push(`By kind: ${Object.entries(r.requests.byKind).map(([k, v]) => `${k} ${n(v.total)}${v.failed ? ` (${v.failed} failed)` : ''}`).join(', ')}.`, '');
  lines.push(`Latency over the whole run: p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms, max ${r.latencyMs.max} ms.`, '');
  lines.push('| phase | migration | duration | requests | p50 ms | p99 ms |', '| --- | --- | --- | --- | --- | --- |');
  for (const p of r.phases) {
    const l = r.latencyMs.perPhase[p.name];
    lines.push(`| ${p.name} | ${p.migration} | ${sec(p.startedAt, p.endedAt)} | ${n(l?.requests ?? 0)} | ${l?.p50 ?? '-'} | ${l?.p99 ?? '-'} |`);
  }
  lines.push('', '## Faults', '');
  for (const f of r.faultsInjected) lines.push(`- **${f.kind}** at ${f.at}${f.endedAt ? ` (over after ${sec(f.at, f.endedAt)})` : ''}: ${f.detail}`);
  lines.push('', '## Documents', '');
  lines.push(`${n(r.documents.total)} customers in the database; by stored version: ${Object.entries(r.documents.byVersion).map(([v, c]) => `v${v} × ${n(c)}`).join(', ')}.`);
  lines.push(
    `Read back through the API (GET /customers/:id via the load balancer) in ${(r.readBack.durationMs / 1000).toFixed(1)} s; ` +
      `${n(r.documents.notAcknowledged)} stored customer(s) nobody acknowledged creating (a create whose answer was lost).`,
    '',
  );
  lines.push('## Load balancer', '');
  lines.push(`${r.loadBalancer.reloads} graceful reload(s); ${n(r.loadBalancer.retriedRequests)} request(s) nginx sent to a second instance; ${n(r.loadBalancer.upstreamErrors)} upstream error(s) it logged.`);
  for (const e of r.loadBalancer.endpointEvents) lines.push(`- ${e.at instanceof Date ? e.at.toISOString() : e.at} ${e.action === 'added' ? '+' : '-'} ${e.instance}: ${e.reason}`);
  lines.push('', '## Steps', '', '| step | duration |', '| --- | --- |');
  for (const s of r.stages) lines.push(`| ${s.name} | ${sec(s.startedAt, s.endedAt)} |`);
  lines.push('', `Audit log: ${n(r.audit.entries)} entries (${Object.entries(r.audit.byAction).map(([a, c]) => `${a} ${c}`).join(', ')}).`);
  if (r.notes.length) lines.push('', '## Notes', '', ...r.notes.map((x) => `- ${x}`));
  lines.push('', `Builds: blue = ${r.builds.blue.description} (\`${r.builds.blue.build}\`); green = ${r.builds.green.description} (\`${r.builds.green.build}\`).`);
  lines.push(`Services: ${r.services}.`, '');
  return lines.join('\n');
}
