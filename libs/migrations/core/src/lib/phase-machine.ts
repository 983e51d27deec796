import { DataCounts, GateRefusedError, GateResult, VerifyReport, gatesToLeave } from './gates';
import { MigrationRegistry, checksumOf } from './migration-registry';
import { InstanceHeartbeat, MigrationDefinition, lazyOnlyOf } from './migration.types';
import { Phase, flagChanges, isPastContract, nextPhase } from './phases';
import { ServiceSchemas, isRequirementGate, requirementGates } from './service-schema';
import { ControlStore, MigrationState, RunnerCommand } from './store.contract';

/** Measures the data counts a gate needs; implemented by each store adapter. */
export interface DataProbe {
  counts(def: MigrationDefinition): Promise<DataCounts>;
}

/**
 * The port through which phase changes set feature flags (for example Unleash's Admin API, in
 * `@zdm/migrations-nest`). Core only sets and reads; instances report what they see in heartbeats.
 */
export interface FlagAdmin {
  /** Turns `flag` on or off for every instance of the service. */
  set(flag: string, enabled: boolean): Promise<void>;
  /** Optional: what the flag service itself says about `flag` (null when it does not know it). */
  get?(flag: string): Promise<boolean | null>;
}

/** Who does something and why, for the audit log. */
export interface Actor {
  actor: string;
  reason: string;
}

/** Options for {@link PhaseMachine}. */
export interface PhaseMachineOptions {
  registry: MigrationRegistry;
  store: ControlStore;
  probe: DataProbe;
  /** Without it, flags are not changed (plans and tests); gates still check what instances report. */
  flags?: FlagAdmin;
  /** Fewest live instances a gate requires. Default 1. */
  minInstances?: number;
  /** How the gates of a migration's `requires` ask other services; without it those gates hold. */
  schemas?: ServiceSchemas;
}

/** Everything `zdm status` shows for one migration. */
export interface MigrationStatus {
  id: string;
  description: string;
  phase: Phase;
  next: Phase | null;
  gates: GateResult[];
  counts: DataCounts;
  instances: InstanceHeartbeat[];
  command: RunnerCommand;
  verify: VerifyReport | null;
  /** A lazy-only migration's documents still below `to` (by the stored version) and when the service upgrades them; null for other strategies. */
  lazy: { remaining: number; upgradedWhen: string } | null;
}

/**
 * The phase state machine of migrations: moves each through its phases. A phase is left only when every gate holds; each change
 * is a compare-and-set on the stored state and lands in the audit log.
 */
export class PhaseMachine {
  constructor(private readonly options: PhaseMachineOptions) {}

  private get store() {
    return this.options.store;
  }

  async state(id: string): Promise<MigrationState> {
    const def = this.options.registry.get(id);
    return (
      (await this.store.state.load(id)) ?? {
        id,
        phase: 'pending',
        revision: 0,
        checksum: checksumOf(def),
        command: 'run',
        backfillDoneAt: null,
        verify: null,
        updatedAt: new Date(0),
      }
    );
  }

  async status(id: string): Promise<MigrationStatus> {
    const def = this.options.registry.get(id);
    const state = await this.state(id);
    const [counts, instances, required] = await Promise.all([
      this.options.probe.counts(def),
      this.store.heartbeats.live(),
      requirementGates(def, this.options.schemas),
    ]);
    const gates = gatesToLeave(def, state.phase, {
      instances,
      counts,
      verify: state.verify ?? null,
      backfillDone: !!state.backfillDoneAt,
      backfillDoneAt: state.backfillDoneAt ?? null,
      minInstances: this.options.minInstances,
    });
    if (state.phase !== 'complete' && state.phase !== 'rolled-back') gates.push(...required);
    // The checksum is recorded when the migration leaves pending; code edited after that may not advance.
    const checksum = checksumOf(def);
    const lazyOnly = lazyOnlyOf(def);
    if (state.phase !== 'pending' && state.checksum !== checksum) {
      gates.push({
        gate: 'checksum-unchanged',
        ok: false,
        detail: `started with checksum ${state.checksum}, the code now has ${checksum}; write a new migration instead of editing a started one`,
      });
    }
    return {
      id,
      description: def.description,
      phase: state.phase,
      next: nextPhase(def, state.phase),
      gates,
      counts,
      instances: instances.filter((i) => i.service === def.service),
      command: state.command,
      verify: state.verify ?? null,
      lazy: lazyOnly ? { remaining: counts.belowTarget, upgradedWhen: lazyOnly.upgradedWhen } : null,
    };
  }

  /**
   * Leaves the current phase for the next one if every gate holds; otherwise throws
   * {@link GateRefusedError} naming each failing gate. Flags for the new phase are set first.
   */
  async advance(id: string, who: Actor): Promise<Phase> {
    const def = this.options.registry.get(id);
    const status = await this.status(id);
    const state = await this.state(id);
    const to = status.next;
    if (!to) throw new GateRefusedError(id, state.phase, [{ gate: 'not-terminal', ok: false, detail: `${state.phase} is final` }]);
    const failing = status.gates.filter((g) => !g.ok);
    // Leaving `pending` only needs the checksum recorded and the other services' steps this one
    // waits for (`requires`); instances are checked when leaving expand.
    const blocking = state.phase === 'pending' ? failing.filter(isRequirementGate) : failing;
    if (blocking.length) throw new GateRefusedError(id, state.phase, blocking);
    await this.applyFlags(def, state.phase, to, who);
    await this.saveState(state, { phase: to, checksum: checksumOf(def) });
    await this.audit(id, who, 'phase', { from: state.phase, to });
    return to;
  }

  /** Pauses, resumes or aborts the runners of a migration (they obey within one batch). */
  async command(id: string, command: RunnerCommand, who: Actor): Promise<void> {
    const state = await this.state(id);
    await this.saveState(state, { command });
    await this.audit(id, who, command === 'run' ? 'resume' : command, {});
  }

  async recordVerify(id: string, report: VerifyReport, who: Actor): Promise<void> {
    const state = await this.state(id);
    await this.saveState(state, { verify: report });
    await this.audit(id, who, 'verify', { checked: report.checked, mismatches: report.mismatches, shadowMismatches: report.shadowMismatches });
  }

  async recordBackfillDone(id: string, who: Actor): Promise<void> {
    const state = await this.state(id);
    await this.saveState(state, { backfillDoneAt: new Date() });
    await this.audit(id, who, 'backfill-done', {});
  }

  /**
   * Marks a migration rolled back after the data was restored, and turns its flags back.
   * Refuses past contract when the migration has no `down`.
   */
  async markRolledBack(id: string, who: Actor): Promise<void> {
    const def = this.options.registry.get(id);
    const state = await this.state(id);
    this.assertCanRollBack(def, state.phase);
    await this.applyFlags(def, state.phase, 'rolled-back', who);
    await this.saveState(state, { phase: 'rolled-back', command: 'run' });
    await this.audit(id, who, 'rollback', { from: state.phase });
  }

  /** Throws with the reason when rollback from `phase` is impossible. */
  assertCanRollBack(def: MigrationDefinition, phase: Phase): void {
    if (phase === 'rolled-back') throw new Error(`${def.id} is already rolled back`);
    if (isPastContract(phase) && !def.down) {
      throw new Error(
        `${def.id} is irreversible: it has no down(), and in ${phase} the old fields (${def.removedFields?.join(', ')}) are gone, so old readers cannot come back`,
      );
    }
  }

  private async applyFlags(def: MigrationDefinition, from: Phase, to: Phase, who: Actor) {
    const changes = flagChanges(def, from, to);
    for (const [flag, enabled] of Object.entries(changes)) {
      if (this.options.flags) await this.options.flags.set(flag, enabled);
      await this.audit(def.id, who, 'flag', { flag, enabled, applied: !!this.options.flags });
    }
  }

  private async saveState(state: MigrationState, patch: Partial<MigrationState>) {
    const next = { ...state, ...patch, updatedAt: new Date() };
    if (!(await this.store.state.save(next, state.revision))) {
      throw new Error(`${state.id} was changed by someone else meanwhile (revision ${state.revision}); read status and try again`);
    }
  }

  private async audit(id: string, who: Actor, action: string, details: Record<string, unknown>) {
    await this.store.audit.append({ migrationId: id, at: new Date(), actor: who.actor, action, reason: who.reason, details });
  }
}
