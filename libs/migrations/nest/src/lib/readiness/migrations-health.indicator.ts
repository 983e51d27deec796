import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import type { ControlStore, MigrationDefinition, MigrationState, Phase, RunnerCommand } from '@zdm/migrations-core';
import type { FlagSnapshot } from '../flags/flag-source.contract';
import { InstanceHeartbeats } from '../heartbeat/instance-heartbeats.service';
import { BuildSchemas, migrationsOf } from '../heartbeat/build-schemas.service';
import { CONTROL_STORE } from '../migrations.options';
import { ReadConflict, describeConflict, unreadableWrites } from './read-compatibility.check';

/** Phase and operator command of one migration. */
export interface MigrationProgress {
  phase: Phase;
  command: RunnerCommand;
}

/** Whether this instance may take traffic, and what it knows about its migrations. */
export interface MigrationsReadiness {
  ready: boolean;
  /** Why not, in one line; absent when ready. */
  reason?: string;
  build: string;
  instanceId: string;
  /** Version this instance writes now, per target. */
  writes: Record<string, number>;
  /** Live instances writing what this build cannot read. */
  conflicts: ReadConflict[];
  /** Phase and command per migration of this service (`pending` when never started). */
  migrations: Record<string, MigrationProgress>;
  /** Flag values this instance sees. */
  flags: FlagSnapshot;
}

/** Phase and command of each migration, from the stored states (`pending`/`run` when none is stored). */
export function progressOf(defs: readonly MigrationDefinition[], states: readonly MigrationState[]): Record<string, MigrationProgress> {
  const byId = new Map(states.map((s) => [s.id, s]));
  return Object.fromEntries(
    defs.map((def) => {
      const state = byId.get(def.id);
      return [def.id, { phase: state?.phase ?? 'pending', command: state?.command ?? 'run' }];
    }),
  );
}

/**
 * Readiness as far as migrations are concerned: DOWN while any live instance of this service writes
 * a version this build cannot read (e.g. a v1-only build started during dual-write must not get
 * traffic), or while the control store cannot be read. Reports each migration's phase and command.
 *
 * ```ts
 * this.health.check([() => this.migrations.isHealthy()])
 * ```
 */
@Injectable()
export class MigrationsHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    @Inject(CONTROL_STORE) private readonly store: ControlStore,
    private readonly schemas: BuildSchemas,
    private readonly heartbeats: InstanceHeartbeats,
  ) {}

  async evaluate(): Promise<MigrationsReadiness> {
    const { identity } = this.heartbeats;
    const support = this.schemas.support();
    const base = {
      build: identity.build,
      instanceId: identity.instanceId,
      writes: Object.fromEntries(Object.entries(support).map(([target, s]) => [target, s.writes])),
      flags: this.schemas.flags.snapshot(),
    };
    let live, states;
    try {
      [live, states] = await Promise.all([this.store.heartbeats.live(), this.store.state.list()]);
    } catch (err) {
      const reason = `control store unreachable: ${err instanceof Error ? err.message : String(err)}`;
      return { ...base, ready: false, reason, conflicts: [], migrations: {} };
    }
    const conflicts = unreadableWrites(identity, this.schemas.ranges, live);
    const migrations = progressOf(migrationsOf(this.schemas.registry, identity.service), states);
    if (conflicts.length === 0) return { ...base, ready: true, conflicts, migrations };
    return { ...base, ready: false, reason: conflicts.map(describeConflict).join('; '), conflicts, migrations };
  }

  /** A terminus indicator result under `key`: `up` with details, or `down` with the reason. */
  async isHealthy(key = 'migrations') {
    const { ready, ...details } = await this.evaluate();
    const session = this.indicators.check(key);
    return ready ? session.up(details) : session.down(details);
  }
}
