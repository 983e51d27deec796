import {
  AuditEntry,
  InstanceHeartbeat,
  MigrationStatus,
  Phase,
  PlanEntry,
  QuarantineEntry,
  RunResult,
  flagNames,
} from '@zdm/migrations-core';
import { formatCount, formatDuration, formatRate } from './progress-bar';

const onOff = (flags: Record<string, boolean>, prefix: string) =>
  Object.entries(flags)
    .map(([k, v]) => `${k.startsWith(prefix) ? k.slice(prefix.length) : k}=${v ? 'on' : 'off'}`)
    .join(' ') || '(none)';

/** The values of one migration's flags as each live instance reports them. */
export function flagsSeen(id: string, instances: readonly InstanceHeartbeat[]): Record<string, Record<string, boolean | null>> {
  const names = Object.values(flagNames(id));
  return Object.fromEntries(instances.map((i) => [i.instanceId, Object.fromEntries(names.map((n) => [n, i.flags[n] ?? null]))]));
}

/** Extras of {@link renderStatus}: the phase path and what the flag service says. */
export interface StatusExtras {
  /** The migration's forward path of phases. */
  path?: readonly Phase[];
  /** Flag values read back from the flag service, or why they could not be read. */
  flagService?: Record<string, boolean | null> | { error: string } | null;
}

/** `pending > expand > [dual-write] > backfill ...`: the path with the current phase in brackets. */
export function renderPath(path: readonly Phase[], current: Phase): string {
  const shown = path.map((p) => (p === current ? `[${p}]` : p)).join(' > ');
  return path.includes(current) ? shown : `${shown}   (now ${current})`;
}

function renderFlagService(flagService: StatusExtras['flagService'], prefix: string): string | null {
  if (!flagService) return null;
  if ('error' in flagService && typeof flagService.error === 'string') return `  unleash  unreadable: ${flagService.error}`;
  const values = Object.entries(flagService as Record<string, boolean | null>)
    .map(([k, v]) => `${k.startsWith(prefix) ? k.slice(prefix.length) : k}=${v === null ? 'absent' : v ? 'on' : 'off'}`)
    .join(' ');
  return `  unleash  ${values}`;
}

/** Full status of one migration, for people. */
export function renderStatus(s: MigrationStatus, expectedFlags: Record<string, boolean>, target: string, extras: StatusExtras = {}): string {
  const prefix = `${s.id}.`;
  const lines = [
    `${s.id}: ${s.description}`,
    `  phase    ${s.phase}${s.next ? ` (next: ${s.next})` : ''}    command: ${s.command}`,
    ...(extras.path ? [`  path     ${renderPath(extras.path, s.phase)}`] : []),
    `  counts   ${formatCount(s.counts.belowTarget)} below target · ${formatCount(s.counts.withOldFields)} with old fields · ${formatCount(s.counts.quarantined)} quarantined`,
    ...(s.lazy ? [`  lazy     ${formatCount(s.lazy.remaining)} left to upgrade ${s.lazy.upgradedWhen} (no backfill); after the deadline: zdm lazy expire ${s.id} --before <deadline>`] : []),
    `  verify   ${s.verify ? `${new Date(s.verify.at).toISOString()}: checked ${formatCount(s.verify.checked)}, ${s.verify.mismatches} mismatch(es), ${s.verify.shadowMismatches} shadow` : 'no pass recorded'}`,
    `  flags    this phase wants ${onOff(expectedFlags, prefix)}`,
    ...[renderFlagService(extras.flagService, prefix)].filter((l): l is string => l !== null),
    `  gates to leave ${s.phase}:`,
    ...s.gates.map((g) => `    ${g.ok ? 'ok  ' : 'FAIL'}  ${g.gate.padEnd(26)} ${g.detail}`),
    `  instances (${s.instances.length} live):`,
    ...s.instances.map((i) => {
      const schema = i.schemas[target];
      const seen = flagsSeen(s.id, [i])[i.instanceId];
      const flags = Object.entries(seen)
        .map(([k, v]) => `${k.slice(prefix.length)}=${v === null ? '?' : v ? 'on' : 'off'}`)
        .join(' ');
      return `    ${i.instanceId}  build ${i.build}  ${schema ? `reads v${schema.readMin}..v${schema.readMax} writes v${schema.writes}` : `no schema for ${target}`}  flags ${flags}`;
    }),
  ];
  return lines.join('\n');
}

/** One line per migration, for `zdm status` without an id. */
export function renderStatusList(list: readonly MigrationStatus[], instances: readonly InstanceHeartbeat[] = []): string {
  const migrations = list.length
    ? list.map((s) => {
        const failing = s.gates.filter((g) => !g.ok).map((g) => g.gate);
        const gates = s.next ? (failing.length ? `waiting on ${failing.join(', ')}` : `ready for ${s.next}`) : 'final';
        const lazy = s.lazy ? ` · lazy-only: ${formatCount(s.lazy.remaining)} left to upgrade` : '';
        return `${s.id.padEnd(32)} ${s.phase.padEnd(13)} ${s.command.padEnd(6)} ${gates}${lazy}`;
      })
    : ['no migrations registered'];
  const live = instances.map((i) => {
    const schemas = Object.entries(i.schemas).map(([target, r]) => `${target} reads v${r.readMin}..v${r.readMax} writes v${r.writes}`);
    return `  ${i.instanceId}  build ${i.build}  ${schemas.join('; ') || 'no schemas'}`;
  });
  return [...migrations, `instances (${instances.length} live):`, ...live].join('\n');
}

/** A dry-run plan, for people. */
export function renderPlan(entries: readonly PlanEntry[]): string {
  return entries
    .map((e) => {
      const prefix = `${e.id}.`;
      const head = [
        `${e.id} (${e.strategy}, ${e.reversible ? 'reversible' : 'IRREVERSIBLE past contract: no down()'}): ${e.description}`,
        `  now ${e.currentPhase} · affected ${formatCount(e.affected)} of ${formatCount(e.total)} · sampled ${formatRate(e.sampleRatePerSec)} · backfill estimate ${formatDuration(e.estimatedBackfillSec)}`,
        '  phases:',
      ];
      const phases = e.phases.map((p) => {
        const flags = Object.keys(p.flags).length ? `   [flags: ${onOff(p.flags, prefix)}]` : '';
        return `    ${p.phase.padEnd(13)} ${p.does}${flags}`;
      });
      return [...head, ...phases].join('\n');
    })
    .join('\n\n');
}

/** Quarantined documents, for people. */
export function renderQuarantine(id: string, entries: readonly QuarantineEntry[]): string {
  if (!entries.length) return `${id}: quarantine is empty`;
  return [
    `${id}: ${entries.length} quarantined document(s)`,
    ...entries.map((e) => `  ${e.docId}  [${e.stage}] ${e.reason}  (${new Date(e.at).toISOString()})`),
  ].join('\n');
}

/** How a job ended, for people. */
export function renderRun(id: string, job: string, r: RunResult): string {
  const c = r.checkpoint;
  return (
    `${id} ${job}: ${r.status} · processed ${formatCount(c.processed)} · written ${formatCount(c.written)} · skipped ${formatCount(c.skipped)}` +
    ` · conflicts ${formatCount(c.conflicts)} · quarantined ${formatCount(c.quarantined)} · ${formatRate(r.progress.ratePerSec)} in ${formatDuration(r.progress.elapsedMs / 1000)}`
  );
}

/** The counters of a run, for JSON output. */
export function runData(r: RunResult): Record<string, unknown> {
  const { cursor: _cursor, updatedAt: _updatedAt, done: _done, ...counters } = r.checkpoint;
  return { status: r.status, ...counters, ratePerSec: r.progress.ratePerSec, elapsedMs: r.progress.elapsedMs, token: r.token };
}

/** The audit log, for people: one line per entry, oldest first. */
export function renderAudit(id: string, entries: readonly AuditEntry[]): string {
  if (!entries.length) return `${id}: the audit log is empty`;
  return [
    `${id}: ${entries.length} audit entr${entries.length === 1 ? 'y' : 'ies'}`,
    ...entries.map((e) => {
      const details = e.details && Object.keys(e.details).length ? `  ${JSON.stringify(e.details)}` : '';
      return `  ${new Date(e.at).toISOString()}  ${e.action.padEnd(14)} ${e.actor}: ${e.reason}${details}`;
    }),
  ].join('\n');
}
