import {
  DocumentPatch,
  FlagConfirmOptions,
  GateRefusedError,
  JobLeaseHeldError,
  JobOutcome,
  LazyExpireResult,
  PhaseJob,
  RunResult,
  WalkOptions,
  flagsForPhase,
  phasesOf,
  targetName,
} from '@zdm/migrations-core';
import { CliError, ExitCode, ExitCodeValue, exitCodeForRun, refusedByGates } from './exit-codes';
import { flagsSeen, renderAudit, renderPlan, renderQuarantine, renderRun, renderStatus, renderStatusList, runData } from './render';
import { Session, requireDef } from './session';

/** A job's outcome with the exit code it maps to. */
export type JobRun = JobOutcome & { exitCode: ExitCodeValue };

/** The exit code of a job: how it ended, then the quarantine (exit 6 when documents wait there). */
export function withExitCode(outcome: JobOutcome): JobRun {
  let exitCode = outcome.result ? exitCodeForRun(outcome.result.status) : ExitCode.ok;
  if (exitCode === ExitCode.ok && outcome.quarantined > 0) exitCode = ExitCode.quarantine;
  return { ...outcome, exitCode };
}

const jobMessage = (id: string, job: string, r: RunResult | null, quarantined: number): string => {
  if (!r) return `${id} ${job}: nothing to do`;
  switch (r.status) {
    case 'lease-held':
      return `${id} ${job}: another runner holds the lease; not started`;
    case 'lease-lost':
      return `${id} ${job}: lost the lease to another runner; stopped (checkpoint kept)`;
    case 'aborted':
      return `${id} ${job}: aborted by an operator (checkpoint kept)`;
    case 'stopped':
      return `${id} ${job}: stopped by signal (checkpoint kept; run again to resume)`;
    case 'done':
      return quarantined ? `${id} ${job}: done, but ${quarantined} document(s) are quarantined; see \`zdm quarantine list ${id}\`` : `${id} ${job}: done`;
  }
};

/** Reports how a job ended, as the command's result. */
export function reportJob(
  s: Session,
  command: string,
  id: string,
  job: string,
  run: JobRun,
  extra: Record<string, unknown> = {},
  note = '',
): ExitCodeValue {
  const { result, exitCode, quarantined } = run;
  const message = jobMessage(id, job, result, quarantined);
  const text = [result ? renderRun(id, job, result) : '', note, message].filter(Boolean).join('\n');
  s.reporter.result(command, exitCode, { id, job, message, ...(result ? runData(result) : {}), quarantineOpen: quarantined, ...extra }, text);
  return exitCode;
}

/** `zdm status [id]`. */
export async function statusCommand(s: Session, id?: string): Promise<ExitCodeValue> {
  if (!id) {
    const list = [];
    for (const def of s.migrator.registry.all()) list.push(await s.migrator.status(def.id));
    const instances = (await s.migrator.store.heartbeats.live()).filter((i) => i.service === s.config.service);
    s.reporter.result('status', ExitCode.ok, { service: s.config.service, migrations: list, instances }, renderStatusList(list, instances));
    return ExitCode.ok;
  }
  const def = requireDef(s, id);
  const status = await s.migrator.status(id);
  const expectedFlags = flagsForPhase(def, status.phase);
  const flagService = await flagServiceValues(s, Object.keys(expectedFlags));
  const { command: runnerCommand, ...rest } = status;
  s.reporter.result(
    'status',
    ExitCode.ok,
    { ...rest, runnerCommand, path: phasesOf(def), expectedFlags, flagsSeen: flagsSeen(id, status.instances), flagService },
    renderStatus(status, expectedFlags, targetName(def.target), { path: phasesOf(def), flagService }),
  );
  return ExitCode.ok;
}

/**
 * What the flag service itself says about `flags`, when the flag admin can read them back
 * (Unleash's can); null otherwise. A failure to read is reported, not thrown: status must work
 * while the flag service is down.
 */
async function flagServiceValues(s: Session, flags: string[]): Promise<Record<string, boolean | null> | { error: string } | null> {
  const reader = s.flags;
  if (!reader?.get) return null;
  try {
    const values: Record<string, boolean | null> = {};
    for (const flag of flags) values[flag] = await reader.get(flag);
    return values;
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
}

/** `zdm plan [id...]`: a dry run; writes nothing. */
export async function planCommand(s: Session, ids: string[]): Promise<ExitCodeValue> {
  for (const id of ids) requireDef(s, id);
  const plans = await s.migrator.plan(ids);
  s.reporter.result('plan', ExitCode.ok, { plans }, plans.length ? renderPlan(plans) : 'no migrations registered');
  return ExitCode.ok;
}

/** `zdm start <id> --job <job>`. */
export async function startCommand(s: Session, id: string, job: PhaseJob): Promise<ExitCodeValue> {
  if (job === 'verify') return verifyCommand(s, id);
  requireDef(s, id);
  return reportJob(s, 'start', id, job, withExitCode(await s.orchestrator.startJob(id, job)));
}

/** `zdm verify <id>`: full verify pass plus a `down(up(doc))` round trip on a sample. */
export async function verifyCommand(s: Session, id: string): Promise<ExitCodeValue> {
  requireDef(s, id);
  const { verify: done, ...outcome } = await s.orchestrator.startJob(id, 'verify');
  const run = withExitCode(outcome);
  if (!done) return reportJob(s, 'verify', id, 'verify', run);
  const mismatches = done.report.mismatches + done.report.shadowMismatches;
  if (run.exitCode === ExitCode.ok && mismatches > 0) run.exitCode = ExitCode.quarantine;
  const roundTrip = done.roundTrip.failures.length ? `round trip: ${done.roundTrip.failures[0].reason}` : `round trip ok on ${done.roundTrip.sampled} sample(s)`;
  const note = `${id} verify: ${mismatches} mismatch(es) · ${roundTrip}`;
  return reportJob(s, 'verify', id, 'verify', run, { verify: done.report, roundTrip: done.roundTrip }, note);
}

/** `zdm rollback <id>`. */
export async function rollbackCommand(s: Session, id: string): Promise<ExitCodeValue> {
  requireDef(s, id);
  const { from, phase, job, outcome } = await s.orchestrator.rollback(id);
  return reportJob(s, 'rollback', id, job, withExitCode(outcome), { from, phase });
}

/** `zdm pause|resume|abort <id>`. */
export async function operatorCommand(s: Session, id: string, what: 'pause' | 'resume' | 'abort'): Promise<ExitCodeValue> {
  requireDef(s, id);
  await s.migrator[what](id, s.who);
  const runnerCommand = (await s.migrator.phaseMachine.state(id)).command;
  const texts = { pause: 'paused; runners hold after their current batch', resume: 'resumed', abort: 'aborted; runners stop after their current batch' };
  s.reporter.result(what, ExitCode.ok, { id, runnerCommand }, `${id}: ${texts[what]}`);
  return ExitCode.ok;
}

/** `zdm advance <id>`: one phase, only if every gate holds; then waits until every instance reports the flags it flipped. */
export async function advanceCommand(s: Session, id: string, flagWait: FlagConfirmOptions): Promise<ExitCodeValue> {
  requireDef(s, id);
  let advanced: Awaited<ReturnType<Session['orchestrator']['advanceAndConfirm']>>;
  try {
    advanced = await s.orchestrator.advanceAndConfirm(id, flagWait);
  } catch (err) {
    if (err instanceof GateRefusedError) throw refusedByGates(id, err.phase, err.failing);
    throw err;
  }
  const { from, to, seen } = advanced;
  s.reporter.result('advance', ExitCode.ok, { id, from, to, flagsSeen: seen }, `${id}: now in ${to}${seen ? ` (flags seen by ${seen.instances.length} instance(s))` : ''}`);
  return ExitCode.ok;
}

/** `zdm run <id>`: walks the migration to complete (or `--to`); the orchestrator decides each step. */
export async function walkCommand(s: Session, id: string, options: WalkOptions): Promise<ExitCodeValue> {
  requireDef(s, id);
  const walked = await s.orchestrator.walk(id, options);
  const { transitions } = walked;
  if (walked.kind === 'job-unfinished') return reportJob(s, 'run', id, walked.job, withExitCode(walked.outcome), { phase: walked.phase, transitions });
  const path = transitions.length ? [transitions[0].from, ...transitions.map((t) => t.to)].join(' -> ') : `already ${walked.phase}`;
  const where = walked.phase === 'complete' ? 'complete' : `in ${walked.phase}`;
  s.reporter.result('run', ExitCode.ok, { id, phase: walked.phase, transitions }, `${id}: ${where} (${path})`);
  return ExitCode.ok;
}

/** `zdm audit <id>`: the audit log, newest last. */
export async function auditCommand(s: Session, id: string, limit: number): Promise<ExitCodeValue> {
  requireDef(s, id);
  const entries = await s.migrator.store.audit.list(id, limit);
  s.reporter.result('audit', ExitCode.ok, { id, count: entries.length, entries }, renderAudit(id, entries));
  return ExitCode.ok;
}

/** `zdm quarantine list <id>`: exit 6 when anything is quarantined. */
export async function quarantineListCommand(s: Session, id: string): Promise<ExitCodeValue> {
  requireDef(s, id);
  const entries = await s.migrator.quarantined(id);
  const code = entries.length ? ExitCode.quarantine : ExitCode.ok;
  s.reporter.result('quarantine list', code, { id, count: entries.length, entries }, renderQuarantine(id, entries));
  return code;
}

/** `zdm quarantine retry <id>`: re-runs the quarantined documents; exit 6 while some remain. */
export async function quarantineRetryCommand(s: Session, id: string): Promise<ExitCodeValue> {
  requireDef(s, id);
  const { fixed, still } = await s.migrator.retryQuarantined(id, s.who);
  const code = still.length ? ExitCode.quarantine : ExitCode.ok;
  const text = `${id}: ${fixed.length} fixed, ${still.length} still quarantined` + (still.length ? '\n' + renderQuarantine(id, still) : '');
  s.reporter.result('quarantine retry', code, { id, fixed, still, count: still.length }, text);
  return code;
}

/** The options of `zdm quarantine patch`, as given. */
export interface PatchOptions {
  /** `path=json`, e.g. `lines.0.unitPrice=19.99`. */
  set: string[];
  /** Paths to remove. */
  unset: string[];
}

/** `--set path=json` options as a patch; a malformed one is a usage error naming it. */
export function parsePatch(options: PatchOptions): DocumentPatch {
  const set: Record<string, unknown> = {};
  for (const arg of options.set) {
    const at = arg.indexOf('=');
    if (at <= 0) throw new CliError(ExitCode.usage, `--set ${arg}: give path=value, e.g. lines.0.unitPrice=19.99`);
    const path = arg.slice(0, at);
    try {
      set[path] = JSON.parse(arg.slice(at + 1));
    } catch {
      throw new CliError(ExitCode.usage, `--set ${arg}: the value after = must be JSON: a number (19.99), a string in double quotes ("EUR"), true, false, null, an object or an array`);
    }
  }
  if (!options.set.length && !options.unset.length) throw new CliError(ExitCode.usage, 'quarantine patch needs at least one --set path=json or --unset path');
  return { set, unset: options.unset };
}

/**
 * `zdm quarantine patch <id> <docId> --set path=json --unset path --reason why`: the audited fix of a
 * quarantined document's data, then a retry of it; exit 6 while it stays quarantined.
 */
export async function quarantinePatchCommand(s: Session, id: string, docId: string, options: PatchOptions): Promise<ExitCodeValue> {
  requireDef(s, id);
  const patch = parsePatch(options);
  if (!s.who.reason || s.who.reason === 'cli') throw new CliError(ExitCode.usage, 'quarantine patch changes stored data: say why with --reason (it goes to the audit log)');
  let result: Awaited<ReturnType<Session['migrator']['patchQuarantined']>>;
  try {
    result = await s.migrator.patchQuarantined(id, docId, patch, s.who);
  } catch (err) {
    if (err instanceof JobLeaseHeldError) throw err;
    throw new CliError(ExitCode.refused, `${id}: ${(err as Error).message}`);
  }
  const stillThere = result.still.find((e) => e.docId === docId);
  const code = stillThere ? ExitCode.quarantine : ExitCode.ok;
  const changed = result.changes.map((c) => `  ${c.path}: ${JSON.stringify(c.before) ?? '(absent)'} -> ${JSON.stringify(c.after) ?? '(removed)'}`);
  const text = [`${id}: patched ${docId} (audited as ${s.who.actor}: ${s.who.reason})`, ...changed, stillThere ? `still quarantined: ${stillThere.reason}` : 'migrated; it left the quarantine'].join('\n');
  s.reporter.result('quarantine patch', code, { id, docId, changes: result.changes, fixed: result.fixed.includes(docId), reason: stillThere?.reason ?? null, count: result.still.length }, text);
  return code;
}

/** The options of `zdm lazy expire`, as given. */
export interface LazyExpireCliOptions {
  /** The deadline, ISO 8601 (e.g. `2026-03-01T00:00:00Z`). */
  before: string;
  dryRun?: boolean;
}

/** `--before` as a date; a usage error naming it when it is not an ISO 8601 date. */
export function parseDeadline(before: string): Date {
  const at = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?$/.test(before) ? new Date(before) : new Date(NaN);
  if (Number.isNaN(at.getTime())) throw new CliError(ExitCode.usage, `--before ${before}: give the deadline as an ISO 8601 date, e.g. 2026-03-01 or 2026-03-01T00:00:00Z`);
  return at;
}

/**
 * `zdm lazy expire <id> --before <deadline> --reason why [--dry-run]`: the end of a lazy-only
 * migration. Once the deadline has passed, the migration's expire hook rewrites every document
 * still below its target version (nobody upgraded it by the deadline), audited; exit 6 when the
 * hook could not expire some of them, 3 when refused (deadline ahead, wrong phase, no hook).
 */
export async function lazyExpireCommand(s: Session, id: string, options: LazyExpireCliOptions): Promise<ExitCodeValue> {
  requireDef(s, id);
  const before = parseDeadline(options.before);
  const dryRun = !!options.dryRun;
  if (!dryRun && (!s.who.reason || s.who.reason === 'cli')) throw new CliError(ExitCode.usage, 'lazy expire changes stored data: say why with --reason (it goes to the audit log)');
  let result: LazyExpireResult;
  try {
    result = await s.migrator.expireLazy(id, { before, dryRun }, s.who);
  } catch (err) {
    if (err instanceof JobLeaseHeldError) throw err;
    throw new CliError(ExitCode.refused, `${id}: ${(err as Error).message}`);
  }
  const code = result.refused.length ? ExitCode.quarantine : ExitCode.ok;
  const text = [
    dryRun
      ? `${id}: dry run: ${result.expired} document(s) below the target version would be expired (deadline ${before.toISOString()}); nothing written`
      : `${id}: expired ${result.expired} document(s) nobody upgraded by ${before.toISOString()} (audited as ${s.who.actor}: ${s.who.reason})`,
    ...(result.upgradedMeanwhile ? [`${result.upgradedMeanwhile} upgraded meanwhile, left as they were`] : []),
    ...result.refused.map((r) => `  not expired: ${r.id}: ${r.reason}`),
    `${result.remaining} left below the target version`,
  ].join('\n');
  s.reporter.result('lazy expire', code, { id, before: before.toISOString(), ...result }, text);
  return code;
}
