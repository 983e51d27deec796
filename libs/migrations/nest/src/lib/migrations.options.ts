import type { InjectionToken, ModuleMetadata, OptionalFactoryDependency } from '@nestjs/common';
import type { ControlStore, MigrationRegistry } from '@zdm/migrations-core';
import type { Registry } from 'prom-client';
import type { FlagSource } from './flags/flag-source.contract';
import type { HeartbeatOptions } from './heartbeat/instance-heartbeats.service';
import type { ReadRanges } from './heartbeat/build-schemas.service';

/** Where the module reads flags from when it creates the Unleash client itself. */
export interface UnleashConnectionOptions {
  /** Unleash API URL, e.g. `http://unleash:4242/api`. */
  url: string;
  /** Backend (client) API token. */
  token: string;
  /** Poll interval. Default 5000 ms. */
  refreshIntervalMs?: number;
  /** How long startup waits for Unleash's first answer before going on with the safe defaults. Default 3000 ms. */
  startupWaitMs?: number;
}

/** Options of `MigrationsModule.forRoot`. */
export interface MigrationsModuleOptions {
  /** The service, as migrations name it in `service`; heartbeats and gates use it. */
  service: string;
  /** This build (git sha or release name), shown in heartbeats and readiness. */
  build: string;
  /** The migrations this build knows. */
  registry: MigrationRegistry;
  /**
   * Versions this build reads, per target (collection or key pattern). Default: for each target
   * of this service's migrations, from the first step's `from` to the last step's `to`.
   */
  targets?: ReadRanges;
  /** The control store, or a function that opens it (the mongo and redis adapters provide one). */
  controlStore: ControlStore | (() => ControlStore | Promise<ControlStore>);
  /** A ready flag source. Give this or `unleash`; with neither, the safe defaults apply for good. */
  flags?: FlagSource;
  /** Unleash connection; the module then creates (and closes) the flag source itself. */
  unleash?: UnleashConnectionOptions;
  /** This instance's id in heartbeats. Default `<service>-<host>-<pid>-<random>`. */
  instanceId?: string;
  /** Heartbeat timing. */
  heartbeat?: HeartbeatOptions;
  /**
   * Prometheus registry for the migration metrics. Default: the `Registry` provider when one is
   * injectable (ServiceDefaultsModule provides it), else prom-client's default registry.
   */
  metricsRegistry?: Registry;
  /** Name of the readiness check. Default `migrations`. */
  readinessName?: string;
  /** The API version this build serves (e.g. `1.1.0`), shown by `GET /.well-known/zdm/schema`. */
  apiVersion?: string;
}

/** Options of `MigrationsModule.forRootAsync`: the options come from a factory with injected dependencies. */
export interface MigrationsModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  /** Providers handed to `useFactory`, in order. */
  inject?: (InjectionToken | OptionalFactoryDependency)[];
  useFactory: (...args: never[]) => MigrationsModuleOptions | Promise<MigrationsModuleOptions>;
}

/** The options as given to the module. */
export const MIGRATIONS_OPTIONS = Symbol('zdm:MIGRATIONS_OPTIONS');
/** The `ControlStore` the module uses. */
export const CONTROL_STORE = Symbol('zdm:CONTROL_STORE');
/** The `FlagSource` the module uses. */
export const FLAG_SOURCE = Symbol('zdm:FLAG_SOURCE');
