import {
  FlagAdmin,
  GateRefusedError,
  MigrationDefinition,
  Migrator,
  Phase,
  RunOptions,
  RunResult,
  RunnerCommand,
  flagsForPhase,
  phasesOf,
  targetName,
} from '@zdm/migrations-core';
import { CliError, ExitCode, ExitCodeValue, exitCodeForRun, refusedByGates } from './exit-codes';
import { FlagConfirmOptions, confirmFlags } from './flag-rollout';
import { flagsSeen, renderAudit, renderPlan, renderQuarantine, renderRun, renderStatus, renderStatusList, runData } from './render';
import { Session, requireDef } from './session';

/** Jobs `zdm start --job` may run. `down`/`unexpand` only run through `zdm rollback`. */
export const START_JOBS = ['backfill', 'contract', 'verify'] as const;
export type StartJob = (typeof START_JOBS)[number];

/**
 * Phases in which each job may run. Running a backfill before every instance reads the new shape
 * would break the two-shape invariant, so the CLI refuses instead of trusting the operator.
 */
export const JOB_PHASES: Record<StartJob, readonly Phase[]> = {
  backfill: ['backfill', 'verify'],
  verify: ['verify', 'switch-reads', 'contract', 'complete'],
  contract: ['contract'],
};

/** Refuses (exit 3) a job in a phase that does not allow it, saying which phases do. */
export function assertJobAllowed(def: MigrationDefinition, job: StartJob, phase: Phase): void {
  const allowed = JOB_PHASES[job].filter((p) => phasesOf(def).includes(p));
  if (allowed.includes(phase)) return;
  const path = phasesOf(def);
  const hint = path.indexOf(phase) >= 0 && path.indexOf(phase) < path.indexOf(allowed[0]) ? '; advance first (zdm advance / zdm run)' : '';
  throw new CliError(ExitCode.refused, `${def.id}: ${job} runs in phase ${allowed.join(' or ')}, but the migration is in ${phase}${hint}`, {
    phase,
    allowedPhases: allowed,
  });
}

/** Refuses (exit 5) to start work while an operator has paused or aborted the migration. */
export function assertRunnable(id: string, command: RunnerCommand): void {
  if (command === 'pause') throw new CliError(ExitCode.stopped, `${id} is paused; run \`zdm resume ${id}\` first`, { runnerCommand: command });
  if (command === 'abort') throw new CliError(ExitCode.stopped, `${id} was aborted; \`zdm resume ${id}\` clears the abort`, { runnerCommand: command });
}

/** Watches the operator command while a job runs, so a paused runner says why it stopped moving. */
function watchCommand(s: Session, id: string, everyMs = 500): () => void {
  let last: RunnerCommand = 'run';
  const timer = setInterval(() => {
    s.migrator.store.state.load(id).then(
      (state) => {
        const command = state?.command ?? 'run';
        if (command === last) return;
        last = command;
        const text = command === 'pause' ? `${id}: paused; waiting for \`zdm resume ${id}\`` : command === 'run' ? `${id}: resumed` : `${id}: abort requested`;
        s.reporter.event(command === 'pause' ? 'paused' : command === 'run' ? 'resumed' : 'abort-requested', { id }, text);
      },
      () => undefined,
    );
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** Runs one job with progress, pause notices and SIGINT handling; returns the run and its exit code. `quiet` leaves out the job-start event (a retry). */
export async function runWithProgress(
  s: Session,
  id: string,
  job: string,
  exec: (options: RunOptions) => Promise<RunResult | null>,
  quiet = false,
): Promise<{ result: RunResult | null; exitCode: ExitCodeValue; quarantined: number }> {
  if (!quiet) s.reporter.event('job-start', { id, job, owner: s.migrator.owner }, `${id} ${job}: started (runner ${s.migrator.owner})`);
  const stopWatching = watchCommand(s, id);
  let result: RunResult | null;
  try {
    result = await exec({ onBatch: (e) => s.reporter.progress(job, id, e), signal: s.signal, actor: s.who });
  } finally {
    stopWatching();
  }
  const quarantined = await s.migrator.store.quarantine.count(id);
  let exitCode = result ? exitCodeForRun(result.status) : ExitCode.ok;
  if (exitCode === ExitCode.ok && quarantined > 0) exitCode = ExitCode.quarantine;
  return { result, exitCode, quarantined };
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
  run: Awaited<ReturnType<typeof runWithProgress>>,
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
    s.reporter.result('status', ExitCode.ok, { service: s.config.service, migrations: list }, renderStatusList(list));
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
  const reader = s.flags as (FlagAdmin & { get?: (flag: string) => Promise<boolean | null> }) | undefined;
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
export async function startCommand(s: Session, id: string, job: StartJob): Promise<ExitCodeValue> {
  if (job === 'verify') return verifyCommand(s, id);
  const def = requireDef(s, id);
  const state = await s.migrator.controller.state(id);
  assertJobAllowed(def, job, state.phase);
  assertRunnable(id, state.command);
  const run = await runWithProgress(s, id, job, (options) => s.migrator.run(id, job, options));
  return reportJob(s, 'start', id, job, run);
}

/** `zdm verify <id>`: full verify pass plus a `down(up(doc))` round trip on a sample. */
export async function verifyCommand(s: Session, id: string): Promise<ExitCodeValue> {
  const def = requireDef(s, id);
  const state = await s.migrator.controller.state(id);
  assertJobAllowed(def, 'verify', state.phase);
  assertRunnable(id, state.command);
  const holder: { outcome?: Awaited<ReturnType<Migrator['verify']>> } = {};
  const run = await runWithProgress(s, id, 'verify', async (options) => (holder.outcome = await s.migrator.verify(id, options)).result);
  const done = holder.outcome;
  if (!done) return reportJob(s, 'verify', id, 'verify', run);
  const mismatches = done.report.mismatches + done.report.shadowMismatches;
  if (run.exitCode === ExitCode.ok && mismatches > 0) run.exitCode = ExitCode.quarantine;
  const roundTrip = done.roundTrip.failures.length ? `round trip: ${done.roundTrip.failures[0].reason}` : `round trip ok on ${done.roundTrip.sampled} sample(s)`;
  const note = `${id} verify: ${mismatches} mismatch(es) · ${roundTrip}`;
  return reportJob(s, 'verify', id, 'verify', run, { verify: done.report, roundTrip: done.roundTrip }, note);
}

/** `zdm rollback <id>`. */
export async function rollbackCommand(s: Session, id: string): Promise<ExitCodeValue> {
  const def = requireDef(s, id);
  const state = await s.migrator.controller.state(id);
  if (state.phase === 'rolled-back') {
    // Before contract the phase is marked first and the data restored after: finish an interrupted restore.
    const run = await runWithProgress(s, id, 'unexpand', (options) => s.migrator.run(id, 'unexpand', options));
    return reportJob(s, 'rollback', id, 'unexpand', run, { from: state.phase, phase: state.phase });
  }
  try {
    s.migrator.controller.assertCanRollBack(def, state.phase);
  } catch (err) {
    throw new CliError(ExitCode.refused, err instanceof Error ? err.message : String(err), { phase: state.phase });
  }
  // A rollback is an explicit order: core lets it through an earlier pause or abort.
  const job = state.phase === 'contract' || state.phase === 'complete' ? 'down' : 'unexpand';
  const run = await runWithProgress(s, id, state.phase === 'pending' ? 'rollback' : job, (options) => s.migrator.rollback(id, s.who, options));
  const phase = (await s.migrator.controller.state(id)).phase;
  return reportJob(s, 'rollback', id, job, run, { from: state.phase, phase });
}

/** `zdm pause|resume|abort <id>`. */
export async function operatorCommand(s: Session, id: string, what: 'pause' | 'resume' | 'abort'): Promise<ExitCodeValue> {
  requireDef(s, id);
  await s.migrator[what](id, s.who);
  const runnerCommand = (await s.migrator.controller.state(id)).command;
  const texts = { pause: 'paused; runners hold after their current batch', resume: 'resumed', abort: 'aborted; runners stop after their current batch' };
  s.reporter.result(what, ExitCode.ok, { id, runnerCommand }, `${id}: ${texts[what]}`);
  return ExitCode.ok;
}

/** Advances one phase; a refusal becomes exit 3 naming each failing gate. */
export async function advanceOnce(s: Session, id: string): Promise<{ from: Phase; to: Phase }> {
  const from = (await s.migrator.controller.state(id)).phase;
  try {
    return { from, to: await s.migrator.advance(id, s.who) };
  } catch (err) {
    if (err instanceof GateRefusedError) throw refusedByGates(id, err.phase, err.failing);
    throw err;
  }
}

/** `zdm advance <id>`: one phase, only if every gate holds; then waits until every instance reports the flags it flipped. */
export async function advanceCommand(s: Session, id: string, flagWait: FlagConfirmOptions): Promise<ExitCodeValue> {
  const def = requireDef(s, id);
  const { from, to } = await advanceOnce(s, id);
  s.reporter.event('phase', { id, from, to }, `${id}: ${from} -> ${to}`);
  const seen = await confirmFlags(s, def, from, to, flagWait);
  s.reporter.result('advance', ExitCode.ok, { id, from, to, flagsSeen: seen }, `${id}: now in ${to}${seen ? ` (flags seen by ${seen.instances.length} instance(s))` : ''}`);
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
