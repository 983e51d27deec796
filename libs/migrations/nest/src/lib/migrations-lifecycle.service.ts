import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown, Optional } from '@nestjs/common';
import type { ControlStore, Phase } from '@zdm/migrations-core';
import { ReadinessRegistry } from '@zdm/service-defaults';
import { InstanceHeartbeats } from './heartbeat/instance-heartbeats.service';
import { migrationsOf } from './heartbeat/build-schemas.service';
import { MigrationMetrics } from './metrics/migration-metrics.service';
import { CONTROL_STORE } from './migrations.options';
import { FLAG_SOURCE_HANDLE, FlagSourceHandle, RESOLVED_OPTIONS, ResolvedMigrationsOptions } from './migrations.providers';
import { MigrationsHealthIndicator, progressOf } from './readiness/migrations-health.indicator';

/**
 * Starts heartbeats when the app boots and removes them when it shuts down (before the database
 * clients close), registers the readiness check with ServiceDefaultsModule's ReadinessRegistry when
 * that module is present, and lets the phase gauge read phases from the control store.
 */
@Injectable()
export class MigrationsLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly cleanups: (() => void)[] = [];

  constructor(
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedMigrationsOptions,
    @Inject(CONTROL_STORE) private readonly store: ControlStore,
    @Inject(FLAG_SOURCE_HANDLE) private readonly flags: FlagSourceHandle,
    private readonly heartbeats: InstanceHeartbeats,
    private readonly health: MigrationsHealthIndicator,
    private readonly metrics: MigrationMetrics,
    @Optional() private readonly readiness?: ReadinessRegistry,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.heartbeats.start();
    const defs = migrationsOf(this.options.registry, this.options.service);
    this.cleanups.push(
      this.metrics.trackPhases(async () => {
        const progress = progressOf(defs, await this.store.state.list());
        return Object.fromEntries(Object.entries(progress).map(([id, p]) => [id, p.phase])) as Record<string, Phase>;
      }),
    );
    if (this.readiness) {
      this.cleanups.push(
        this.readiness.register(this.options.readinessName, async () => {
          const { ready, reason, ...details } = await this.health.evaluate();
          if (!ready) throw new Error(reason);
          return details;
        }),
      );
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    for (const cleanup of this.cleanups.splice(0)) cleanup();
    await this.heartbeats.stop();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.flags.owned) await this.flags.source.close?.();
  }
}
