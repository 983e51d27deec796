import { AuditEntry, FlagAdmin, GateRefusedError, MigrationDefinition, MigrationRegistry, Migrator, Orchestrator, Phase } from '@zdm/migrations-core';
import { createMongoBackend } from '@zdm/migrations-mongo';
import { mongo } from 'mongoose';
import { ZdmEvent } from './zdm.driver';

/** Options of {@link InProcessOrchestration}. */
export interface InProcessOrchestrationOptions {
  /** The customers database (data and control store), on the demo's own connection. */
  db: mongo.Db;
  migrations: readonly MigrationDefinition[];
  /** Unleash's Admin API: phase changes set the flags through it. */
  flags: FlagAdmin;
  /** Fewest live instances a gate accepts (as `zdm --min-instances`). */
  minInstances: number;
  /** Actor written to the audit log. */
  actor: string;
  /** Every event, in the shape of a `zdm --json` line. */
  onEvent: (event: ZdmEvent) => void;
}

/**
 * The core `Orchestrator` in the demo's own process, for the steps no fault interrupts (a phase
 * change and its flag rollout, reading the audit log). The walks with the runner in them go through
 * `zdm` child processes ({@link ZdmDriver}), so that the runner can be SIGKILLed.
 */
export class InProcessOrchestration {
  private readonly migrator: Migrator;
  private readonly stop = new AbortController();

  constructor(private readonly options: InProcessOrchestrationOptions) {
    const registry = MigrationRegistry.create(options.migrations);
    this.migrator = new Migrator({ registry, backend: createMongoBackend({ db: options.db, registry }), flags: options.flags, minInstances: options.minInstances, owner: options.actor });
  }

  /**
   * Advances one phase once every gate holds, then waits until every live instance reports the flags
   * it flipped. A gate that does not hold yet is asked again every second for up to `gateWaitMs`, as
   * `zdm run` waits on gates: on a loaded machine a heartbeat may come late and an instance briefly
   * look gone.
   */
  async advance(id: string, reason: string, flagsTimeoutMs = 120_000, gateWaitMs = 60_000): Promise<{ from: Phase; to: Phase }> {
    const deadline = performance.now() + gateWaitMs;
    for (;;) {
      try {
        const { from, to } = await this.orchestrator(reason).advanceAndConfirm(id, { timeoutMs: flagsTimeoutMs, pollMs: 250 });
        return { from, to };
      } catch (err) {
        if (!(err instanceof GateRefusedError) || performance.now() > deadline || this.stop.signal.aborted) throw err;
        this.options.onEvent({ event: 'waiting', at: new Date().toISOString(), id, failingGates: err.failing });
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
    }
  }

  /** Ids of the migrations it walks. */
  get migrations(): string[] {
    return this.options.migrations.map((d) => d.id);
  }

  /** The audit log of a migration, oldest first. */
  audit(id: string): Promise<AuditEntry[]> {
    return this.migrator.store.audit.list(id, 100_000);
  }

  /** Ends any wait in progress (the walk deadline). */
  abort(): void {
    this.stop.abort();
  }

  private orchestrator(reason: string): Orchestrator {
    const emit = (event: string, data: Record<string, unknown>) => this.options.onEvent({ event, at: new Date().toISOString(), ...data });
    return new Orchestrator({
      migrator: this.migrator,
      who: { actor: this.options.actor, reason },
      signal: this.stop.signal,
      listener: { event: (name, data) => emit(name, data), progress: () => undefined },
    });
  }
}
