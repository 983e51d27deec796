import type { EndpointEvent } from './endpoint.watcher';
import { RequestLog, WriteCounts, isFailure, serviceLog } from './load.model';
import type { FailedRequest, LoadResultMessage } from './load.protocol';
import type { AuthLoadResult } from './services/load.sessions';
import type { ReadComparisons } from './services/traffic';
import { LatencySummary, SecondSample, Span, countByKind, countByStatus, latencyPerSpan, perSecond, summarize } from './stats';
import type { DocumentCensus, LostWrite, ReadBack } from './verification';

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

/** A phase of one migration, as the timeline recorded it. */
export type PhaseSpan = Span & { migration: string };

/** Documents the migrations quarantined during the run, and what became of them. */
export interface QuarantineRecord {
  /** Quarantined by a backfill or verify pass. */
  found: number;
  /** Fixed through the documented path (`zdm quarantine`) and migrated on retry. */
  fixed: number;
  /** Still quarantined at the end (each one holds its migration's gate). */
  open: number;
  /** Reasons given, with how many documents had each. */
  reasons: Record<string, number>;
}

/** Everything the demo measured about one service. */
export interface ServiceFacts {
  name: string;
  builds: { blue: { build: string; description: string }; green: { build: string; description: string } };
  migrations: MigrationRecord[];
  /** Its migrations' phases, in time order, without overlaps. */
  phases: PhaseSpan[];
  readBack: ReadBack;
  census: DocumentCensus;
  finalVersion: number;
  quarantine: QuarantineRecord;
  /** What an inconsistent read-back means for this service (see DemoService.inconsistency). */
  inconsistency: string;
}

/** Everything the demo measured, before it is judged. */
export interface DemoFacts {
  startedAt: string;
  endedAt: string;
  options: { docs: number; rps: number; port: number; instances: number; [option: string]: number };
  machine: { cpus: number; node: string; platform: string };
  /** The backing services (store, Redis, Unleash) and where they came from. */
  backing: string;
  /** Steps of the story (services, seed, blue, switch, ...). */
  stages: Span[];
  services: ServiceFacts[];
  load: LoadResultMessage;
  faults: FaultRecord[];
  loadBalancer: { reloads: number; endpointEvents: EndpointEvent[]; retriedRequests: number; upstreamErrors: number };
  audit: { entries: number; byAction: Record<string, number> };
  /** Why the migrations did not reach complete, when they did not. */
  incomplete: string | null;
  /** Free-form notes for the reader (e.g. store tuning applied). */
  notes: string[];
}

/** Requests counted by outcome and kind. */
export interface RequestCounts {
  total: number;
  failed: number;
  byStatus: Record<string, number>;
  byKind: Record<string, { total: number; failed: number }>;
}

/** The report's section on one service. */
export interface ServiceReport {
  name: string;
  builds: ServiceFacts['builds'];
  requests: RequestCounts;
  acknowledgedWrites: WriteCounts & { checked: number; lost: number };
  lostWriteExamples: LostWrite[];
  reads: { comparedWithLastWrite: number; mismatches: number; examples: ReadComparisons['examples'] };
  readBack: Omit<ReadBack, 'examples' | 'lostWrites' | 'checked'>;
  latencyMs: LatencySummary & { perPhase: Record<string, LatencySummary> };
  phases: PhaseSpan[];
  migrations: MigrationRecord[];
  documents: DocumentCensus & {
    finalVersion: number;
    /** Stored documents the load never got an acknowledgement for (creates whose answer was lost). */
    notAcknowledged: number;
  };
  quarantine: QuarantineRecord;
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
  backing: string;
  /** Every request of the run, all services together. */
  requests: RequestCounts & {
    /** Requests per second actually started (total / load seconds). */
    achievedRps: number;
    /** Due while the client had too many open requests (client overload, not server failures). */
    notSent: number;
    /** The first failed requests, each with its answer (status 0: none). */
    failedExamples: FailedRequest[];
  };
  /** Acknowledged writes that did not read back, all services together. */
  lostWrites: number;
  /** The load's sessions, when it logged in: logins, refreshes, and 401 answers to valid tokens (must be 0). */
  sessions: AuthLoadResult | null;
  latencyMs: LatencySummary;
  /** Requests, failures and p99 latency per second of load (second 0 = `loadStartedAt`), as the chart draws them. */
  perSecond: SecondSample[];
  loadStartedAt: string;
  /** One section per service: its requests, writes, phases, documents and quarantine. */
  services: ServiceReport[];
  stages: Span[];
  faultsInjected: FaultRecord[];
  loadBalancer: DemoFacts['loadBalancer'];
  audit: DemoFacts['audit'];
  notes: string[];
}

const FAULT_KINDS: FaultRecord['kind'][] = ['runner-killed', 'instance-stopped', 'unleash-unreachable', 'store-stalled'];

const failedIn = (log: RequestLog) => log.status.filter(isFailure).length;

/**
 * The failed requests of a log in a few words, for the verdict: each kind and status with its count
 * and the second of the load when the first one started (status 0: no answer at all).
 */
export function describeFailures(log: RequestLog): string {
  const groups = new Map<string, { count: number; firstSec: number }>();
  log.status.forEach((status, i) => {
    if (!isFailure(status)) return;
    const key = `${log.kinds[log.kind[i]]} ${status === 0 ? 'no answer' : status}`;
    const group = groups.get(key);
    if (group) group.count++;
    else groups.set(key, { count: 1, firstSec: log.startMs[i] / 1000 });
  });
  return [...groups].map(([key, g]) => `${g.count} × ${key} (first at ${g.firstSec.toFixed(1)} s)`).join(', ');
}

/** Every promise of the demo that the facts break; empty when the run proves zero downtime. */
export function judge(f: Pick<DemoFacts, 'load' | 'services' | 'faults' | 'incomplete'>): string[] {
  const problems: string[] = [];
  if (f.incomplete) problems.push(f.incomplete);
  if (f.load.abandoned > 0) problems.push(`${f.load.abandoned} request(s) never answered`);
  for (const s of f.services) {
    const of = `${s.name}: `;
    const log = serviceLog(f.load.log, s.name);
    const failed = failedIn(log);
    const reads = f.load.services[s.name]?.reads;
    if (failed > 0) problems.push(`${of}${failed} request(s) failed: ${describeFailures(log)}`);
    if (s.readBack.lostWrites > 0) problems.push(`${of}${s.readBack.lostWrites} acknowledged write(s) did not read back`);
    if (reads && reads.mismatches > 0) problems.push(`${of}${reads.mismatches} read(s) returned something other than the last acknowledged write`);
    if (s.readBack.inconsistent > 0) problems.push(`${of}${s.readBack.inconsistent} ${s.inconsistency}`);
    const { total, atFinalVersion, withOldFields } = s.census;
    if (atFinalVersion !== total) problems.push(`${of}${total - atFinalVersion} of ${total} document(s) are not at v${s.finalVersion}`);
    if (withOldFields > 0) problems.push(`${of}${withOldFields} document(s) still carry old fields`);
    if (s.quarantine.open > 0) problems.push(`${of}${s.quarantine.open} document(s) still quarantined`);
  }
  const auth = f.load.auth;
  if (auth?.unauthorizedWithValidToken) problems.push(`${auth.unauthorizedWithValidToken} write(s) answered 401 to an access token that was still valid`);
  if (auth?.withoutToken) problems.push(`${auth.withoutToken} write(s) could not be sent: no access token could be had from the auth hub`);
  for (const kind of FAULT_KINDS) if (!f.faults.some((x) => x.kind === kind)) problems.push(`fault ${kind} was not injected`);
  return problems;
}

function requestCounts(log: RequestLog): RequestCounts {
  return { total: log.status.length, failed: failedIn(log), byStatus: countByStatus(log), byKind: countByKind(log) };
}

function serviceReport(s: ServiceFacts, load: LoadResultMessage): ServiceReport {
  const log = serviceLog(load.log, s.name);
  const traffic = load.services[s.name] ?? { writes: { seeded: 0, created: 0, updated: 0, unknownOutcome: 0, documents: 0 }, reads: { compared: 0, mismatches: 0, examples: [] } };
  const { examples, lostWrites, checked, ...readBack } = s.readBack;
  return {
    name: s.name,
    builds: s.builds,
    requests: requestCounts(log),
    acknowledgedWrites: { ...traffic.writes, checked, lost: lostWrites },
    lostWriteExamples: examples,
    reads: { comparedWithLastWrite: traffic.reads.compared, mismatches: traffic.reads.mismatches, examples: traffic.reads.examples },
    readBack,
    latencyMs: { ...summarize(log.latencyMs), perPhase: latencyPerSpan(log, load.startedAt, s.phases) },
    phases: s.phases,
    migrations: s.migrations,
    documents: { ...s.census, finalVersion: s.finalVersion, notAcknowledged: Math.max(0, s.census.total - traffic.writes.documents) },
    quarantine: s.quarantine,
  };
}

/** Builds latest.json from the facts. */
export function buildReport(f: DemoFacts): DemoReport {
  const { log } = f.load;
  const loadSeconds = log.startMs.length ? (log.startMs[log.startMs.length - 1] + 1) / 1000 : 0;
  const failures = judge(f);
  return {
    ok: failures.length === 0,
    failures,
    startedAt: f.startedAt,
    endedAt: f.endedAt,
    durationSec: Math.round((Date.parse(f.endedAt) - Date.parse(f.startedAt)) / 100) / 10,
    options: f.options,
    machine: f.machine,
    backing: f.backing,
    requests: {
      ...requestCounts(log),
      achievedRps: loadSeconds ? Math.round((log.status.length / loadSeconds) * 10) / 10 : 0,
      notSent: f.load.notSent,
      failedExamples: f.load.failedExamples ?? [],
    },
    lostWrites: f.services.reduce((sum, s) => sum + s.readBack.lostWrites, 0),
    sessions: f.load.auth ?? null,
    latencyMs: summarize(log.latencyMs),
    perSecond: perSecond(log),
    loadStartedAt: new Date(f.load.startedAt).toISOString(),
    services: f.services.map((s) => serviceReport(s, f.load)),
    stages: f.stages,
    faultsInjected: f.faults,
    loadBalancer: f.loadBalancer,
    audit: f.audit,
    notes: f.notes,
  };
}

const n = (v: number) => v.toLocaleString('en-US');
const sec = (a: string, b: string) => `${((Date.parse(b) - Date.parse(a)) / 1000).toFixed(1)} s`;

/** Faults by kind, with the services each hit when it was done to one service: `runner-killed (customers, orders)`. */
export function faultKinds(faults: readonly FaultRecord[]): string[] {
  const kinds = [...new Set(faults.map((f) => f.kind))];
  return kinds.map((kind) => {
    const services = faults.filter((f) => f.kind === kind && typeof f['service'] === 'string').map((f) => f['service'] as string);
    return services.length ? `${kind} (${services.join(', ')})` : kind;
  });
}

/** The verdict in one line for logs: requests, failures, lost writes, faults, duration. */
export function verdictLine(r: DemoReport): string {
  return (
    `${r.ok ? 'PASSED' : 'FAILED'}: ${n(r.requests.total)} requests, ${r.requests.failed} failed, ${r.lostWrites} lost writes, ` +
    (r.sessions ? `${r.sessions.unauthorizedWithValidToken} answered 401 to a valid token (${r.sessions.logins} logins, ${r.sessions.refreshes} refreshes), ` : '') +
    `faults: ${faultKinds(r.faultsInjected).join(', ') || 'none'}; ${r.durationSec} s`
  );
}

/** One line per service for logs: requests, failures, lost writes, documents at the final version, quarantine. */
export function serviceLines(r: DemoReport): string[] {
  return r.services.map(
    (s) =>
      `${s.name}: ${n(s.requests.total)} requests, ${s.requests.failed} failed, ${s.acknowledgedWrites.lost} lost of ${n(s.acknowledgedWrites.checked)} acknowledged, ` +
      `${n(s.documents.atFinalVersion)}/${n(s.documents.total)} documents at v${s.documents.finalVersion}, ${s.documents.withOldFields} with old fields, ` +
      `quarantined ${s.quarantine.found} (fixed ${s.quarantine.fixed}, open ${s.quarantine.open})`,
  );
}

/** The first failed requests, one line each: when, what, and the answer (for logs and the summary). */
export function failedRequestLines(r: DemoReport, max = 5): string[] {
  const examples = r.requests.failedExamples;
  const lines = examples
    .slice(0, max)
    .map((e) => `at ${(e.atMs / 1000).toFixed(1)} s: ${e.method} ${e.path} -> ${e.status === 0 ? 'no answer' : e.status} ${e.status === 0 ? '' : e.answer}`.trimEnd());
  if (r.requests.failed > lines.length && lines.length) lines.push(`(${r.requests.failed - lines.length} more; latest.json keeps the first ${examples.length})`);
  return lines;
}

/** The markdown summary beside latest.json. */
export function renderSummary(r: DemoReport, chartFile: string): string {
  const names = r.services.map((s) => s.name).join(' and ');
  const lines: string[] = [];
  lines.push(`# Blue-green migration of ${names} under load: ${r.ok ? 'PASSED' : 'FAILED'}`, '');
  lines.push(
    `${r.startedAt} · ${r.durationSec} s · ${r.services.map((s) => `${n(s.acknowledgedWrites.seeded)} ${s.name} seeded`).join(', ')} · ` +
      `${r.options.rps} req/s asked (${r.requests.achievedRps} started) · ${r.machine.cpus} CPUs, Node ${r.machine.node}`,
    '',
  );
  if (!r.ok) lines.push('**What failed:**', '', ...r.failures.map((f) => `- ${f}`), '');
  const failedRequests = failedRequestLines(r);
  if (failedRequests.length) lines.push('First failed requests:', '', ...failedRequests.map((l) => `- \`${l}\``), '');
  lines.push(`![requests, failures and p99 latency per second, with the phases](${chartFile})`, '');
  lines.push(`| promise | ${r.services.map((s) => s.name).join(' | ')} |`, `| --- |${r.services.map(() => ' --- |').join('')}`);
  const row = (promise: string, cell: (s: ServiceReport) => string) => lines.push(`| ${promise} | ${r.services.map(cell).join(' | ')} |`);
  row('every request succeeded', (s) => `${n(s.requests.total - s.requests.failed)} of ${n(s.requests.total)} (${n(s.requests.failed)} failed)`);
  row('every acknowledged write reads back', (s) => `${n(s.acknowledgedWrites.checked - s.acknowledgedWrites.lost)} of ${n(s.acknowledgedWrites.checked)} (${n(s.acknowledgedWrites.lost)} lost)`);
  row('reads return the last acknowledged write', (s) => `${n(s.reads.comparedWithLastWrite - s.reads.mismatches)} of ${n(s.reads.comparedWithLastWrite)} compared`);
  row('every document at its final version', (s) => `${n(s.documents.atFinalVersion)} of ${n(s.documents.total)} at v${s.documents.finalVersion}`);
  row('old fields removed', (s) => `${n(s.documents.withOldFields)} document(s) still carry them`);
  row('quarantined documents fixed', (s) => `${n(s.quarantine.found)} quarantined, ${n(s.quarantine.fixed)} fixed, ${n(s.quarantine.open)} open`);
  lines.push(`| faults injected | ${faultKinds(r.faultsInjected).join(', ') || 'none'} |${r.services.slice(1).map(() => ' |').join('')}`, '');
  const a = r.sessions;
  if (a) {
    lines.push(
      `**No valid token refused:** ${n(a.unauthorizedWithValidToken)} write(s) answered 401 to an access token that was not past its expiry (must be 0). ` +
        `The load's ${n(a.users)} users: ${n(a.registered)} registered, ${n(a.logins)} logins, ${n(a.refreshes)} refreshes before expiry (${n(a.refreshesRefused)} refused), ` +
        `${n(a.retriedAfterRefresh)} write(s) sent again after a refresh, ${n(a.withoutToken)} without a token.`,
      '',
    );
    for (const e of a.examples) lines.push(`- ${e.request} at ${n(e.atMs)} ms, ${e.secondsLeft} s before expiry: ${e.message}`);
    if (a.examples.length) lines.push('');
  }
  lines.push('## Requests', '');
  lines.push(`By status: ${Object.entries(r.requests.byStatus).map(([s, c]) => `${s === '0' ? 'no answer' : s} × ${n(c)}`).join(', ')}.`);
  lines.push(`By kind: ${Object.entries(r.requests.byKind).map(([k, v]) => `${k} ${n(v.total)}${v.failed ? ` (${v.failed} failed)` : ''}`).join(', ')}.`, '');
  lines.push(`Latency over the whole run: p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms, max ${r.latencyMs.max} ms.`, '');
  for (const s of r.services) {
    lines.push(`## ${s.name}`, '');
    lines.push(
      `${n(s.requests.total)} requests (p50 ${s.latencyMs.p50} ms, p99 ${s.latencyMs.p99} ms); acknowledged writes: ${n(s.acknowledgedWrites.seeded)} seeded, ` +
        `${n(s.acknowledgedWrites.created)} created, ${n(s.acknowledgedWrites.updated)} updated, ${n(s.acknowledgedWrites.unknownOutcome)} with an unknown outcome.`,
      '',
    );
    lines.push('| phase | migration | duration | requests | p50 ms | p99 ms |', '| --- | --- | --- | --- | --- | --- |');
    for (const p of s.phases) {
      const l = s.latencyMs.perPhase[p.name];
      lines.push(`| ${p.name} | ${p.migration} | ${sec(p.startedAt, p.endedAt)} | ${n(l?.requests ?? 0)} | ${l?.p50 ?? '-'} | ${l?.p99 ?? '-'} |`);
    }
    lines.push('');
    lines.push(`${n(s.documents.total)} documents in the database; by stored version: ${Object.entries(s.documents.byVersion).map(([v, c]) => `v${v} × ${n(c)}`).join(', ')}.`);
    lines.push(
      `Read back through the API (GET /${s.name}/:id via the load balancer) in ${(s.readBack.durationMs / 1000).toFixed(1)} s; ` +
        `${n(s.documents.notAcknowledged)} stored document(s) nobody acknowledged creating (a create whose answer was lost).`,
    );
    if (s.quarantine.found) {
      lines.push(
        `Quarantined: ${n(s.quarantine.found)} (${Object.entries(s.quarantine.reasons).map(([reason, c]) => `${reason} × ${c}`).join('; ')}); ` +
          `fixed with zdm quarantine: ${n(s.quarantine.fixed)}; still open: ${n(s.quarantine.open)}.`,
      );
    }
    lines.push(`Builds: blue = ${s.builds.blue.description} (\`${s.builds.blue.build}\`); green = ${s.builds.green.description} (\`${s.builds.green.build}\`).`, '');
  }
  lines.push('## Faults', '');
  for (const f of r.faultsInjected) lines.push(`- **${f.kind}**${typeof f['service'] === 'string' ? ` (${f['service']})` : ''} at ${f.at}${f.endedAt ? ` (over after ${sec(f.at, f.endedAt)})` : ''}: ${f.detail}`);
  lines.push('', '## Load balancer', '');
  lines.push(`${r.loadBalancer.reloads} graceful reload(s); ${n(r.loadBalancer.retriedRequests)} request(s) nginx sent to a second instance; ${n(r.loadBalancer.upstreamErrors)} upstream error(s) it logged.`);
  for (const e of r.loadBalancer.endpointEvents) lines.push(`- ${e.at instanceof Date ? e.at.toISOString() : e.at} ${e.action === 'added' ? '+' : '-'} ${e.instance}: ${e.reason}`);
  lines.push('', '## Steps', '', '| step | duration |', '| --- | --- |');
  for (const s of r.stages) lines.push(`| ${s.name} | ${sec(s.startedAt, s.endedAt)} |`);
  lines.push('', `Audit log: ${n(r.audit.entries)} entries (${Object.entries(r.audit.byAction).map(([a, c]) => `${a} ${c}`).join(', ')}).`);
  if (r.notes.length) lines.push('', '## Notes', '', ...r.notes.map((x) => `- ${x}`));
  lines.push('', `Backing services: ${r.backing}.`, '');
  return lines.join('\n');
}
