import { Logger, Provider } from '@nestjs/common';
import { ControlStore, MigrationRegistry } from '@zdm/migrations-core';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { InstanceFacts } from '@zdm/service-defaults';
import { Registry } from 'prom-client';
import { FlagSource, safeFlagDefaults } from './flags/flag-source.contract';
import { StaticFlagSource } from './flags/static.flag-source';
import { UnleashFlagSource } from './flags/unleash.flag-source';
import { InstanceHeartbeats } from './heartbeat/instance-heartbeats.service';
import { BuildSchemas, ReadRanges, defaultReadRanges, migrationsOf } from './heartbeat/build-schemas.service';
import { MigrationMetrics } from './metrics/migration-metrics.service';
import { CONTROL_STORE, FLAG_SOURCE, MIGRATIONS_OPTIONS, MigrationsModuleOptions } from './migrations.options';

/** The options after checks and defaults. */
export interface ResolvedMigrationsOptions extends MigrationsModuleOptions {
  instanceId: string;
  targets: ReadRanges;
  readinessName: string;
}

/** The flag source and whether the module created it (and so closes it). */
export interface FlagSourceHandle {
  source: FlagSource;
  owned: boolean;
}

export const RESOLVED_OPTIONS = Symbol('zdm:RESOLVED_MIGRATIONS_OPTIONS');
export const FLAG_SOURCE_HANDLE = Symbol('zdm:FLAG_SOURCE_HANDLE');

const log = new Logger('MigrationsModule');

/** Checks the options and fills in the defaults; throws one error naming every problem. */
export function resolveOptions(options: MigrationsModuleOptions): ResolvedMigrationsOptions {
  const o = options ?? ({} as MigrationsModuleOptions);
  const problems: string[] = [];
  if (typeof o.service !== 'string' || !o.service) problems.push('service is required (the service name migrations use)');
  if (typeof o.build !== 'string' || !o.build) problems.push('build is required (a git sha or release name)');
  if (!(o.registry instanceof MigrationRegistry)) problems.push('registry must be a MigrationRegistry (MigrationRegistry.create([...]))');
  if (!o.controlStore || (typeof o.controlStore !== 'function' && !o.controlStore.heartbeats)) {
    problems.push('controlStore is required: a ControlStore or a function returning one');
  }
  if (o.flags && o.unleash) problems.push('give either flags or unleash, not both');
  if (o.unleash && (!o.unleash.url || !o.unleash.token)) problems.push('unleash needs url and token');
  if (problems.length) throw new Error(`MigrationsModule options:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  return {
    ...o,
    instanceId: o.instanceId ?? `${o.service}-${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`,
    targets: o.targets ?? defaultReadRanges(o.registry, o.service),
    readinessName: o.readinessName ?? 'migrations',
  };
}

/** Opens the flag source: the given one, else Unleash, else the safe defaults for good. */
export async function openFlagSource(o: ResolvedMigrationsOptions): Promise<FlagSourceHandle> {
  if (o.flags) return { source: o.flags, owned: false };
  const defaults = safeFlagDefaults(migrationsOf(o.registry, o.service));
  if (!o.unleash) {
    log.warn('No flag source configured (flags or unleash): the safe defaults apply and never change');
    return { source: new StaticFlagSource(defaults), owned: true };
  }
  const { url, token, refreshIntervalMs, startupWaitMs = 3_000 } = o.unleash;
  const source = new UnleashFlagSource({ url, token, refreshIntervalMs, defaults, appName: o.service, instanceId: o.instanceId });
  if (!(await source.ready(startupWaitMs))) {
    log.warn(`Unleash did not answer within ${startupWaitMs} ms; starting with the safe defaults until it does`);
  }
  return { source, owned: true };
}

/** Every provider of the module except the options themselves. */
export const migrationsProviders: Provider[] = [
  { provide: RESOLVED_OPTIONS, inject: [MIGRATIONS_OPTIONS], useFactory: resolveOptions },
  {
    provide: CONTROL_STORE,
    inject: [RESOLVED_OPTIONS],
    useFactory: async (o: ResolvedMigrationsOptions): Promise<ControlStore> =>
      typeof o.controlStore === 'function' ? await o.controlStore() : o.controlStore,
  },
  { provide: FLAG_SOURCE_HANDLE, inject: [RESOLVED_OPTIONS], useFactory: openFlagSource },
  { provide: FLAG_SOURCE, inject: [FLAG_SOURCE_HANDLE], useFactory: (h: FlagSourceHandle) => h.source },
  {
    provide: BuildSchemas,
    inject: [RESOLVED_OPTIONS, FLAG_SOURCE],
    useFactory: (o: ResolvedMigrationsOptions, flags: FlagSource) => new BuildSchemas(o.registry, o.targets, flags),
  },
  {
    provide: InstanceHeartbeats,
    // The facts other modules report (e.g. the token guard's key ids), when ServiceDefaultsModule is there.
    inject: [RESOLVED_OPTIONS, CONTROL_STORE, BuildSchemas, { token: InstanceFacts, optional: true }],
    useFactory: (o: ResolvedMigrationsOptions, store: ControlStore, schemas: BuildSchemas, facts?: InstanceFacts) =>
      new InstanceHeartbeats(store.heartbeats, { service: o.service, instanceId: o.instanceId, build: o.build }, schemas, { facts, ...o.heartbeat }),
  },
  {
    provide: MigrationMetrics,
    inject: [RESOLVED_OPTIONS, { token: Registry, optional: true }],
    useFactory: (o: ResolvedMigrationsOptions, injected?: Registry) =>
      new MigrationMetrics({ registry: o.metricsRegistry ?? injected ?? undefined, migrations: o.registry }),
  },
];
