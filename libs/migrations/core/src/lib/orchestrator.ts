import { BatchEvent, RunResult } from './backfill-runner';
import { Clock, systemClock } from './clock';
import { FlagConfirmOptions, FlagConfirmation, laggingInstances, listFlags } from './flag-rollout';
import { GateRefusedError, GateResult } from './gates';
import { JobKind, JobRefusal, PhaseJob, commandRefusal, dueJob, phaseRefusal } from './jobs';
import { Actor } from './phase-machine';
import { MigrationDefinition } from './migration.types';
import { Migrator, RunOptions } from './migrator';
import { Phase, flagChanges, isPastContract, phasesOf } from './phases';
import { RunnerCommand } from './store.contract';

/** Where the orchestrator says what it does; the CLI renders it, the demo records it. */
export interface OrchestratorListener {
  /** A notable step (`job-start`, `phase`, `waiting`, `flags-seen`...), its data, and a sentence. */
  event(name: string, data: Record<string, unknown>, text: string): void;
  /** Progress of a running job, after each batch. */
  progress(job: string, id: string, event: BatchEvent): void;
}

/** Options for {@link Orchestrator}. */
export interface OrchestratorOptions {
  migrator: Migrator;
  /** Actor and reason written to the audit log. */
  who: Actor;
  /** Aborted to stop: runners stop between batches, waits end at once. */
  signal?: AbortSignal;
  /** Where waits and deadlines are measured. Default: the system clock. */
  clock?: Clock;
  listener?: OrchestratorListener;
  /** How often a running job looks at the operator command, to report a pause. Default 500 ms. */
  commandPollMs?: number;
}

/** Options for {@link Orchestrator.walk}. */
export interface WalkOptions {
  /** Longest wait for the gates of one phase to hold (and for a job's lease to free up), in ms. */
  timeoutMs: number;
  /** How often gates are checked again while waiting, in ms. */
  pollMs: number;
  /** Runs of one job per phase before the walk only waits. Default 2. */
  maxJobRuns?: number;
  /** Phase to stop in. Default `complete`. */
  to?: Phase;
  /** How long to wait for every instance to report flipped flags. Default: `timeoutMs`, polled at most every 500 ms. */
  flags?: FlagConfirmOptions;
}

/** How one data job ended. */
export interface JobOutcome {
  /** Null when there was nothing to do. */
  result: RunResult | null;
  /** Open quarantine entries of the migration after the job. */
  quarantined: number;
}

/** How {@link Orchestrator.walk} ended without an error. */
export type WalkOutcome =
  | { kind: 'reached'; phase: Phase; transitions: { from: Phase; to: Phase }[] }
  | { kind: 'job-unfinished'; phase: Phase; job: PhaseJob; outcome: JobOutcome; transitions: { from: Phase; to: Phase }[] };

/**
 * Why the orchestrator stopped: `refused` (a gate or a phase says no, or a wait timed out),
 * `needs-person` (quarantined documents or verify mismatches: waiting will not fix them),
 * `stopped` (signal, pause, abort, rolled back).
 */
export type OrchestrationStop = 'refused' | 'needs-person' | 'stopped';

/** Thrown when the orchestrator stops short; `details` says where (phase, failing gates, lagging instances). */
export class OrchestrationError extends Error {
  constructor(
    readonly kind: OrchestrationStop,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'OrchestrationError';
  }

  static from(refusal: JobRefusal): OrchestrationError {
    return new OrchestrationError(refusal.kind === 'phase' ? 'refused' : 'stopped', refusal.message, refusal.details);
  }
}

/** Gates that no amount of waiting fixes: someone has to look at the documents. */
const NEEDS_A_PERSON = new Set(['quarantine-empty', 'verify-mismatches-zero']);

/** `<id>: cannot leave <phase>; failing gate(s):` and one line per gate. */
export function describeRefusal(id: string, phase: string, failing: readonly GateResult[], prefix = `cannot leave ${phase}`): string {
  return `${id}: ${prefix}; failing gate(s):\n` + failing.map((g) => `  - ${g.gate}: ${g.detail}`).join('\n');
}

/** The gates of a refusal, as details carry them. */
export const failingGates = (failing: readonly GateResult[]) => failing.map(({ gate, detail }) => ({ gate, detail }));

/** True when a job left nothing for its phase to wait on: done (or nothing to do) and no document quarantined. */
export function jobSucceeded(outcome: JobOutcome): boolean {
  return (!outcome.result || outcome.result.status === 'done') && outcome.quarantined === 0;
}

const silent: OrchestratorListener = { event: () => undefined, progress: () => undefined };

/**
 * The one place that decides what happens to a migration next: which job a phase runs and when it
 * is due, advancing as soon as the gates hold, and waiting until every live instance reports the
 * flags a phase change flipped. The CLI, the demo and job entry points all call it; they only parse,
 * wire and render.
 */
export class Orchestrator {
  private readonly clock: Clock;
  private readonly listener: OrchestratorListener;

  constructor(private readonly options: OrchestratorOptions) {
    this.clock = options.clock ?? systemClock;
    this.listener = options.listener ?? silent;
  }

  get migrator(): Migrator {
    return this.options.migrator;
  }

  private get who(): Actor {
    return this.options.who;
  }

  private get signal(): AbortSignal | undefined {
    return this.options.signal;
  }

  /** Runs a phase job (backfill, verify, contract) after checking that the phase allows it and no operator holds it. */
  async startJob(id: string, job: PhaseJob): Promise<JobOutcome & { verify?: Awaited<ReturnType<Migrator['verify']>> }> {
    const def = this.migrator.registry.get(id);
    const state = await this.migrator.phaseMachine.state(id);
    const refusal = phaseRefusal(def, job, state.phase) ?? commandRefusal(id, state.command);
    if (refusal) throw OrchestrationError.from(refusal);
    if (job !== 'verify') return this.runJob(id, job, (o) => this.migrator.run(id, job, o));
    const holder: { verify?: Awaited<ReturnType<Migrator['verify']>> } = {};
    const outcome = await this.runJob(id, 'verify', async (o) => (holder.verify = await this.migrator.verify(id, o)).result);
    return { ...outcome, verify: holder.verify };
  }

  /**
   * Runs one job with progress, pause notices and the stop signal. `quiet` leaves out the
   * job-start event (a retry of the same job).
   */
  async runJob(id: string, job: string, exec: (options: RunOptions) => Promise<RunResult | null>, quiet = false): Promise<JobOutcome> {
    if (!quiet) this.listener.event('job-start', { id, job, owner: this.migrator.owner }, `${id} ${job}: started (runner ${this.migrator.owner})`);
    const stopWatching = this.watchCommand(id);
    let result: RunResult | null;
    try {
      result = await exec({ onBatch: (e) => this.listener.progress(job, id, e), signal: this.signal, actor: this.who });
    } finally {
      stopWatching();
    }
    return { result, quarantined: await this.migrator.store.quarantine.count(id) };
  }

  /**
   * Rolls back: before contract the flags go back and the data is restored (`unexpand`), after
   * contract `down()` runs over the data. A migration already rolled back finishes an interrupted restore.
   */
  async rollback(id: string): Promise<{ from: Phase; phase: Phase; job: JobKind; outcome: JobOutcome }> {
    const def = this.migrator.registry.get(id);
    const state = await this.migrator.phaseMachine.state(id);
    if (state.phase === 'rolled-back') {
      // Before contract the phase is marked first and the data restored after: finish an interrupted restore.
      const outcome = await this.runJob(id, 'unexpand', (o) => this.migrator.run(id, 'unexpand', o));
      return { from: state.phase, phase: state.phase, job: 'unexpand', outcome };
    }
    try {
      this.migrator.phaseMachine.assertCanRollBack(def, state.phase);
    } catch (err) {
      throw new OrchestrationError('refused', err instanceof Error ? err.message : String(err), { phase: state.phase });
    }
    // A rollback is an explicit order: core lets it through an earlier pause or abort.
    const job: JobKind = isPastContract(state.phase) ? 'down' : 'unexpand';
    const outcome = await this.runJob(id, state.phase === 'pending' ? 'rollback' : job, (o) => this.migrator.rollback(id, this.who, o));
    const phase = (await this.migrator.phaseMachine.state(id)).phase;
    return { from: state.phase, phase, job, outcome };
  }

  /** Advances one phase if every gate holds; throws {@link GateRefusedError} otherwise. */
  async advance(id: string): Promise<{ from: Phase; to: Phase }> {
    const from = (await this.migrator.phaseMachine.state(id)).phase;
    const to = await this.migrator.advance(id, this.who);
    this.listener.event('phase', { id, from, to }, `${id}: ${from} -> ${to}`);
    return { from, to };
  }

  /** Advances one phase, then waits until every live instance reports the flags it flipped. */
  async advanceAndConfirm(id: string, flagWait: FlagConfirmOptions): Promise<{ from: Phase; to: Phase; seen: FlagConfirmation | null }> {
    const { from, to } = await this.advance(id);
    const seen = await this.confirmFlags(this.migrator.registry.get(id), from, to, flagWait);
    return { from, to, seen };
  }

  /**
   * After a phase change from `from` to `to` flipped flags (through the flag admin, e.g. Unleash's
   * Admin API), waits until every live instance of the service reports the new values in its
   * heartbeat, and records that in the audit log. Flags are evaluated by each instance on its own
   * schedule, so "set" is not "seen": the next phase may only rely on what instances report.
   * Resolves null when the change flips no flag. Past the timeout it records `flags-not-seen` and
   * throws a `refused` {@link OrchestrationError} naming the lagging instances (the phase change stays).
   */
  async confirmFlags(def: MigrationDefinition, from: Phase, to: Phase, options: FlagConfirmOptions): Promise<FlagConfirmation | null> {
    const flags = flagChanges(def, from, to);
    if (!Object.keys(flags).length || options.timeoutMs <= 0) return null;
    const listed = listFlags(flags);
    const store = this.migrator.store;
    if (!this.migrator.flags) this.listener.event('flags-manual', { id: def.id, flags }, `${def.id}: no flag admin configured; set ${listed} yourself (e.g. in Unleash)`);
    const started = this.clock.now();
    const deadline = started + options.timeoutMs;
    let announced = false;
    for (;;) {
      const instances = (await store.heartbeats.live()).filter((i) => i.service === def.service);
      const lagging = laggingInstances(instances, flags);
      const waitedMs = Math.round(this.clock.now() - started);
      if (!lagging.length) {
        const seen: FlagConfirmation = { flags, instances: instances.map((i) => i.instanceId), waitedMs };
        await store.audit.append({ migrationId: def.id, at: new Date(), actor: this.who.actor, action: 'flags-seen', reason: this.who.reason, details: { phase: to, ...seen } });
        const who = instances.length ? `all ${instances.length} live instance(s)` : 'no live instance to wait for';
        this.listener.event('flags-seen', { id: def.id, phase: to, ...seen }, `${def.id}: ${listed} seen by ${who} after ${(waitedMs / 1000).toFixed(1)}s`);
        return seen;
      }
      if (!announced) {
        announced = true;
        const text = `${def.id}: waiting for every instance to report ${listed}: ${lagging.map((l) => `${l.instanceId} (${l.reports})`).join(', ')}`;
        this.listener.event('flags-waiting', { id: def.id, phase: to, flags, lagging }, text);
      }
      const left = deadline - this.clock.now();
      if (left <= 0) {
        await store.audit.append({ migrationId: def.id, at: new Date(), actor: this.who.actor, action: 'flags-not-seen', reason: this.who.reason, details: { phase: to, flags, lagging, waitedMs } });
        throw new OrchestrationError(
          'refused',
          `${def.id}: moved to ${to} and set ${listed}, but after ${Math.round(waitedMs / 1000)}s these instances still report otherwise:\n` +
            lagging.map((l) => `  - ${l.instanceId}: ${l.reports}`).join('\n') +
            `\n(check that they reach the flag service; \`zdm status ${def.id}\` shows what each reports)`,
          { phase: to, flags, lagging },
        );
      }
      await this.wait(Math.min(options.pollMs, left), `${def.id}: stopped by signal while waiting for instances to report ${listed}`, { phase: to });
    }
  }

  /**
   * Walks a migration to `options.to` (default `complete`). In each phase it runs the job the phase
   * still needs (backfill, verify, contract), then advances as soon as the gates hold, and after each
   * phase change waits until every live instance reports the flags it flipped. A job whose lease
   * another runner holds (for example one that was killed and whose lease has not expired yet) is
   * retried until the lease is free, then resumes from the checkpoint.
   */
  async walk(id: string, options: WalkOptions): Promise<WalkOutcome> {
    const def = this.migrator.registry.get(id);
    const path = phasesOf(def);
    const target = options.to ?? 'complete';
    if (!path.includes(target)) {
      throw new OrchestrationError('refused', `${id}: ${target} is not on its path (${path.join(' -> ')})`, { phase: target, path });
    }
    const maxJobRuns = options.maxJobRuns ?? 2;
    const flagWait = options.flags ?? { timeoutMs: options.timeoutMs, pollMs: Math.min(options.pollMs, 500) };
    const runs = new Map<Phase, number>();
    const transitions: { from: Phase; to: Phase }[] = [];
    for (;;) {
      if (this.signal?.aborted) throw new OrchestrationError('stopped', `${id}: stopped by signal`, { transitions });
      const status = await this.migrator.status(id);
      if (status.phase === 'rolled-back') throw new OrchestrationError('stopped', `${id} is rolled back; nothing to run`, { phase: status.phase });
      if (path.indexOf(status.phase) >= path.indexOf(target)) return { kind: 'reached', phase: status.phase, transitions };
      const refusal = commandRefusal(id, status.command);
      if (refusal) throw OrchestrationError.from(refusal);
      const state = await this.migrator.phaseMachine.state(id);
      const job = dueJob(def, status, state);
      if (job && (runs.get(status.phase) ?? 0) < maxJobRuns) {
        runs.set(status.phase, (runs.get(status.phase) ?? 0) + 1);
        const outcome = await this.runLeaseFree(id, job, status.phase, options);
        if (!jobSucceeded(outcome)) return { kind: 'job-unfinished', phase: status.phase, job, outcome, transitions };
        continue;
      }
      const to = await this.advanceWhenReady(id, status.phase, options);
      transitions.push({ from: status.phase, to });
      await this.confirmFlags(def, status.phase, to, flagWait);
    }
  }

  /**
   * Advances as soon as the gates hold, polling until `timeoutMs`. Reports the failing gates each
   * time they change. Stops at once (`needs-person`) when a gate needs a person (quarantine, verify mismatches).
   */
  private async advanceWhenReady(id: string, phase: Phase, options: WalkOptions): Promise<Phase> {
    const deadline = this.clock.now() + options.timeoutMs;
    let last = '';
    for (;;) {
      try {
        return (await this.advance(id)).to;
      } catch (err) {
        if (!(err instanceof GateRefusedError)) throw err;
        const failing = failingGates(err.failing);
        const details = { phase: err.phase, failingGates: failing };
        const message = describeRefusal(id, err.phase, err.failing);
        if (failing.some((g) => NEEDS_A_PERSON.has(g.gate))) throw new OrchestrationError('needs-person', message, details);
        const key = JSON.stringify(failing);
        if (key !== last) {
          last = key;
          this.listener.event('waiting', { id, phase, failingGates: failing }, `${id}: waiting to leave ${phase}: ${failing.map((g) => `${g.gate} (${g.detail})`).join('; ')}`);
        }
        const left = deadline - this.clock.now();
        if (left <= 0) {
          throw new OrchestrationError('refused', `${message}\n(gave up after ${Math.round(options.timeoutMs / 1000)}s; rerun \`zdm run ${id}\` to continue)`, details);
        }
        await this.wait(Math.min(options.pollMs, left), `${id}: stopped by signal while waiting to leave ${phase}`, { phase });
      }
    }
  }

  /**
   * Runs the job, waiting while another runner holds its lease (a runner that was killed keeps it
   * until it expires; a live one renews it, and the walk then waits until it is done or gone). A run
   * that lost its lease (it stalled past the lease's lifetime, or another runner took over) is
   * started again the same way: the checkpoint it kept is fenced, so nothing is done twice.
   */
  private async runLeaseFree(id: string, job: PhaseJob, phase: Phase, options: WalkOptions): Promise<JobOutcome> {
    const deadline = this.clock.now() + options.timeoutMs;
    const exec = async (o: RunOptions) => (job === 'verify' ? (await this.migrator.verify(id, o)).result : this.migrator.run(id, job, o));
    let announced = false;
    let heldBefore = false;
    for (;;) {
      // After an attempt that found the lease held, the next one does not announce itself again.
      const outcome = await this.runJob(id, job, exec, heldBefore);
      const status = outcome.result?.status;
      heldBefore = status === 'lease-held';
      if (status !== 'lease-held' && status !== 'lease-lost') return outcome;
      if (!announced || status === 'lease-lost') {
        announced = true;
        const detail = status === 'lease-held' ? 'another runner holds the lease' : 'this runner lost the lease (it stalled, or another runner took over)';
        const failing = [{ gate: 'lease-free', detail: `${detail} of ${id}:${job}; waiting for it to finish or expire` }];
        this.listener.event('waiting', { id, phase, failingGates: failing }, `${id}: waiting to run ${job}: ${failing[0].detail}`);
      }
      const left = deadline - this.clock.now();
      if (left <= 0) return outcome;
      await this.wait(Math.min(options.pollMs, left), `${id}: stopped by signal while waiting for the lease of ${job}`, { phase });
    }
  }

  /** Watches the operator command while a job runs, so a paused runner says why it stopped moving. */
  private watchCommand(id: string): () => void {
    let last: RunnerCommand = 'run';
    return this.clock.every(this.options.commandPollMs ?? 500, () => {
      this.migrator.store.state.load(id).then(
        (state) => {
          const command = state?.command ?? 'run';
          if (command === last) return;
          last = command;
          const text = command === 'pause' ? `${id}: paused; waiting for \`zdm resume ${id}\`` : command === 'run' ? `${id}: resumed` : `${id}: abort requested`;
          this.listener.event(command === 'pause' ? 'paused' : command === 'run' ? 'resumed' : 'abort-requested', { id }, text);
        },
        () => undefined,
      );
    });
  }

  /** Waits `ms` on the clock; throws a `stopped` {@link OrchestrationError} when the signal aborts first. */
  private async wait(ms: number, stoppedMessage: string, details: Record<string, unknown>): Promise<void> {
    const signal = this.signal;
    const slept = await new Promise<boolean>((resolve) => {
      if (signal?.aborted) return resolve(false);
      const onAbort = () => resolve(false);
      signal?.addEventListener('abort', onAbort, { once: true });
      void this.clock.sleep(ms).then(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve(true);
      });
    });
    if (!slept) throw new OrchestrationError('stopped', stoppedMessage, details);
  }
}
