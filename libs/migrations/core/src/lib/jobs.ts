import { VerifyReport, isVerifyStale } from './gates';
import { MigrationDefinition, isLazyAdditive, lazyOnlyOf } from './migration.types';
import { Phase, phasesOf } from './phases';
import { MigrationState, RunnerCommand } from './store.contract';

/** Every data job a runner can do. The one list of job kinds: CLI choices, job entry points and stores use it. */
export const JOB_KINDS = ['backfill', 'verify', 'contract', 'down', 'unexpand'] as const;

/** One of {@link JOB_KINDS}. */
export type JobKind = (typeof JOB_KINDS)[number];

/** True when `value` names a job kind (for command lines and stored stage names). */
export function isJobKind(value: string): value is JobKind {
  return (JOB_KINDS as readonly string[]).includes(value);
}

/** Jobs that belong to a phase of the forward path. `down` and `unexpand` run only through a rollback. */
export const PHASE_JOBS = ['backfill', 'contract', 'verify'] as const satisfies readonly JobKind[];

/** One of {@link PHASE_JOBS}. */
export type PhaseJob = (typeof PHASE_JOBS)[number];

/**
 * Phases in which each job may run. Running a backfill before every instance reads the new shape
 * would break the two-shape invariant, so a job outside its phases is refused.
 */
export const JOB_PHASES: Record<PhaseJob, readonly Phase[]> = {
  backfill: ['backfill', 'verify'],
  verify: ['verify', 'switch-reads', 'contract', 'complete'],
  contract: ['contract'],
};

/** Why a job may not run now, or null when it may. */
export interface JobRefusal {
  /** `phase`: the phase does not allow the job; `command`: an operator paused or aborted the migration. */
  kind: 'phase' | 'command';
  message: string;
  details: Record<string, unknown>;
}

/** Refuses a job in a phase that does not allow it, saying which phases do. */
export function phaseRefusal(def: MigrationDefinition, job: PhaseJob, phase: Phase): JobRefusal | null {
  const lazyOnly = lazyOnlyOf(def);
  if (lazyOnly && job === 'backfill') {
    return {
      kind: 'phase',
      message: `${def.id} is lazy-only: it cannot be backfilled (each document is upgraded ${lazyOnly.upgradedWhen}); \`zdm lazy expire ${def.id}\` deals with the documents nobody upgraded`,
      details: { phase, strategy: 'lazy-only' },
    };
  }
  const path = phasesOf(def);
  const allowed = JOB_PHASES[job].filter((p) => path.includes(p));
  if (allowed.includes(phase)) return null;
  const hint = path.indexOf(phase) >= 0 && path.indexOf(phase) < path.indexOf(allowed[0]) ? '; advance first (zdm advance / zdm run)' : '';
  return {
    kind: 'phase',
    message: `${def.id}: ${job} runs in phase ${allowed.join(' or ')}, but the migration is in ${phase}${hint}`,
    details: { phase, allowedPhases: allowed },
  };
}

/** Refuses to start work while an operator has paused or aborted the migration. */
export function commandRefusal(id: string, command: RunnerCommand): JobRefusal | null {
  if (command === 'pause') return { kind: 'command', message: `${id} is paused; run \`zdm resume ${id}\` first`, details: { runnerCommand: command } };
  if (command === 'abort') return { kind: 'command', message: `${id} was aborted; \`zdm resume ${id}\` clears the abort`, details: { runnerCommand: command } };
  return null;
}

/** What {@link dueJob} looks at: the phase, the data counts and the last verify pass. */
export interface DueJobInput {
  phase: Phase;
  counts: { belowTarget: number; withOldFields: number };
  verify: VerifyReport | null;
}

/** The data job the current phase still needs before its gates can hold, if any. */
export function dueJob(def: MigrationDefinition, status: DueJobInput, state: Pick<MigrationState, 'backfillDoneAt'>): PhaseJob | null {
  switch (status.phase) {
    case 'backfill':
      return !isLazyAdditive(def) && !lazyOnlyOf(def) && (!state.backfillDoneAt || status.counts.belowTarget > 0) ? 'backfill' : null;
    case 'verify': {
      const v = status.verify;
      return !v || isVerifyStale(v, state.backfillDoneAt ?? null) || v.mismatches > 0 ? 'verify' : null;
    }
    case 'contract':
      return status.counts.withOldFields > 0 ? 'contract' : null;
    default:
      return null;
  }
}
