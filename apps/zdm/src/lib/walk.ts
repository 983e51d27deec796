import { setTimeout as sleep } from 'node:timers/promises';
import { MigrationDefinition, MigrationState, MigrationStatus, Phase, RunOptions, strategyOf } from '@zdm/migrations-core';
import { CliError, ExitCode, ExitCodeValue } from './exit-codes';
import { advanceOnce, assertRunnable, reportJob, runWithProgress } from './commands';
import { confirmFlags } from './flag-rollout';
import { Session, requireDef } from './session';

/** Options for {@link walkCommand} (`zdm run`). */
export interface WalkOptions {
  /** Longest wait for the gates of one phase to hold, in ms. */
  timeoutMs: number;
  /** How often gates are checked again while waiting, in ms. */
  pollMs: number;
  /** Runs of one job per phase before the walk only waits. Default 2. */
  maxJobRuns?: number;
}

/** Gates that no amount of waiting fixes: someone has to look at the documents. */
const NEEDS_A_PERSON = new Set(['quarantine-empty', 'verify-mismatches-zero']);

/** A data job `zdm run` starts on its own. */
export type DueJob = 'backfill' | 'verify' | 'contract';

/** The data job the current phase still needs, if any. */
export function dueJob(def: MigrationDefinition, status: MigrationStatus, state: MigrationState): DueJob | null {
  const strategy = strategyOf(def);
  const lazy = strategy.kind === 'additive' && strategy.backfill === 'lazy';
  switch (status.phase) {
    case 'backfill':
      return !lazy && (!state.backfillDoneAt || status.counts.belowTarget > 0) ? 'backfill' : null;
    case 'verify': {
      const v = status.verify;
      const stale = !!v && !!state.backfillDoneAt && new Date(v.at) < new Date(state.backfillDoneAt);
      return !v || stale || v.mismatches > 0 ? 'verify' : null;
    }
    case 'contract':
      return status.counts.withOldFields > 0 ? 'contract' : null;
    default:
      return null;
  }
}

/**
 * Advances as soon as the gates hold, polling until `timeoutMs`. Reports the failing gates each
 * time they change. Exit 6 at once when a gate needs a person (quarantine, verify mismatches).
 */
async function advanceWhenReady(s: Session, id: string, phase: Phase, options: WalkOptions): Promise<Phase> {
  const deadline = performance.now() + options.timeoutMs;
  let last = '';
  for (;;) {
    try {
      const { from, to } = await advanceOnce(s, id);
      s.reporter.event('phase', { id, from, to }, `${id}: ${from} -> ${to}`);
      return to;
    } catch (err) {
      if (!(err instanceof CliError) || err.exitCode !== ExitCode.refused) throw err;
      const failing = (err.details['failingGates'] ?? []) as { gate: string; detail: string }[];
      if (failing.some((g) => NEEDS_A_PERSON.has(g.gate))) throw new CliError(ExitCode.quarantine, err.message, err.details);
      const key = JSON.stringify(failing);
      if (key !== last) {
        last = key;
        s.reporter.event('waiting', { id, phase, failingGates: failing }, `${id}: waiting to leave ${phase}: ${failing.map((g) => `${g.gate} (${g.detail})`).join('; ')}`);
      }
      const left = deadline - performance.now();
      if (left <= 0) {
        throw new CliError(ExitCode.refused, `${err.message}\n(gave up after ${Math.round(options.timeoutMs / 1000)}s; rerun \`zdm run ${id}\` to continue)`, err.details);
      }
      try {
        await sleep(Math.min(options.pollMs, left), undefined, { signal: s.signal });
      } catch {
        throw new CliError(ExitCode.stopped, `${id}: stopped by signal while waiting to leave ${phase}`, { phase });
      }
    }
  }
}

/**
 * `zdm run <id>`: walks a migration to `complete`. In each phase it runs the job the phase needs
 * (backfill, verify, contract), then advances as soon as the gates hold, and after each phase
 * change waits until every live instance reports the flags it flipped. A job whose lease another
 * runner holds (for example one that was killed and whose lease has not expired yet) is retried
 * until the lease is free, then resumes from the checkpoint.
 */
export async function walkCommand(s: Session, id: string, options: WalkOptions): Promise<ExitCodeValue> {
  const def = requireDef(s, id);
  const maxJobRuns = options.maxJobRuns ?? 2;
  const runs = new Map<Phase, number>();
  const transitions: { from: Phase; to: Phase }[] = [];
  for (;;) {
    if (s.signal.aborted) throw new CliError(ExitCode.stopped, `${id}: stopped by signal`, { transitions });
    const status = await s.migrator.status(id);
    if (status.phase === 'complete') {
      const path = transitions.length ? [transitions[0].from, ...transitions.map((t) => t.to)].join(' -> ') : 'already complete';
      s.reporter.result('run', ExitCode.ok, { id, phase: status.phase, transitions }, `${id}: complete (${path})`);
      return ExitCode.ok;
    }
    if (status.phase === 'rolled-back') throw new CliError(ExitCode.stopped, `${id} is rolled back; nothing to run`, { phase: status.phase });
    assertRunnable(id, status.command);
    const state = await s.migrator.controller.state(id);
    const job = dueJob(def, status, state);
    if (job && (runs.get(status.phase) ?? 0) < maxJobRuns) {
      runs.set(status.phase, (runs.get(status.phase) ?? 0) + 1);
      const run = await runOnceLeaseFree(s, id, job, status.phase, options);
      if (run.exitCode !== ExitCode.ok) return reportJob(s, 'run', id, job, run, { phase: status.phase, transitions });
      continue;
    }
    const to = await advanceWhenReady(s, id, status.phase, options);
    transitions.push({ from: status.phase, to });
    await confirmFlags(s, def, status.phase, to, { timeoutMs: options.timeoutMs, pollMs: Math.min(options.pollMs, 500) });
  }
}

/**
 * Runs the job, waiting while another runner holds its lease (a runner that was killed keeps it
 * until it expires; a live one renews it, and the walk then waits until it is done or gone). A run
 * that lost its lease (it stalled past the lease's lifetime, or another runner took over) is
 * started again the same way: the checkpoint it kept is fenced, so nothing is done twice.
 */
async function runOnceLeaseFree(s: Session, id: string, job: DueJob, phase: Phase, options: WalkOptions) {
  const deadline = performance.now() + options.timeoutMs;
  const exec = async (o: RunOptions) => (job === 'verify' ? (await s.migrator.verify(id, o)).result : s.migrator.run(id, job, o));
  let announced = false;
  let heldBefore = false;
  for (;;) {
    // After an attempt that found the lease held, the next one does not announce itself again.
    const run = await runWithProgress(s, id, job, exec, heldBefore);
    const status = run.result?.status;
    heldBefore = status === 'lease-held';
    if (status !== 'lease-held' && status !== 'lease-lost') return run;
    if (!announced || status === 'lease-lost') {
      announced = true;
      const detail = status === 'lease-held' ? 'another runner holds the lease' : 'this runner lost the lease (it stalled, or another runner took over)';
      const failingGates = [{ gate: 'lease-free', detail: `${detail} of ${id}:${job}; waiting for it to finish or expire` }];
      s.reporter.event('waiting', { id, phase, failingGates }, `${id}: waiting to run ${job}: ${failingGates[0].detail}`);
    }
    const left = deadline - performance.now();
    if (left <= 0) return run;
    try {
      await sleep(Math.min(options.pollMs, left), undefined, { signal: s.signal });
    } catch {
      throw new CliError(ExitCode.stopped, `${id}: stopped by signal while waiting for the lease of ${job}`, { phase });
    }
  }
}
