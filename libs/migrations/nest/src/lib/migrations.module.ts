import { DynamicModule, Module, Provider } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { BuildSchemas } from './heartbeat/build-schemas.service';
import { InstanceHeartbeats } from './heartbeat/instance-heartbeats.service';
import { MigrationMetrics } from './metrics/migration-metrics.service';
import { MigrationsLifecycle } from './migrations-lifecycle.service';
import { CONTROL_STORE, FLAG_SOURCE, MIGRATIONS_OPTIONS, MigrationsModuleAsyncOptions, MigrationsModuleOptions } from './migrations.options';
import { migrationsProviders } from './migrations.providers';
import { MigrationsHealthIndicator } from './readiness/migrations-health.indicator';
import { ServiceSchemaController } from './schema/service-schema.controller';

/**
 * Wires the migration library into a service: flags, heartbeats, readiness, metrics, and the
 * read-only schema endpoint other services' gates query (`GET /.well-known/zdm/schema`).
 *
 * ```ts
 * MigrationsModule.forRoot({
 *   service: 'customers',
 *   build: process.env.BUILD ?? 'dev',
 *   registry: customersMigrations,
 *   controlStore: () => createMongoControlStore(db),
 *   unleash: { url: process.env.UNLEASH_URL!, token: process.env.UNLEASH_CLIENT_TOKEN! },
 * })
 * ```
 * Global: feature modules can inject `FLAG_SOURCE`, `BuildSchemas` (write versions for the store
 * plugins), `MigrationMetrics` and `MigrationsHealthIndicator`.
 */
@Module({})
export class MigrationsModule {
  static forRoot(options: MigrationsModuleOptions): DynamicModule {
    return MigrationsModule.create([], { provide: MIGRATIONS_OPTIONS, useValue: options });
  }

  /** Options from a factory, e.g. to open the control store on an injected database connection. */
  static forRootAsync(options: MigrationsModuleAsyncOptions): DynamicModule {
    return MigrationsModule.create(options.imports ?? [], {
      provide: MIGRATIONS_OPTIONS,
      inject: options.inject ?? [],
      useFactory: options.useFactory,
    });
  }

  private static create(imports: NonNullable<DynamicModule['imports']>, optionsProvider: Provider): DynamicModule {
    return {
      module: MigrationsModule,
      global: true,
      imports: [TerminusModule, ...imports],
      controllers: [ServiceSchemaController],
      providers: [optionsProvider, ...migrationsProviders, MigrationsHealthIndicator, MigrationsLifecycle],
      exports: [CONTROL_STORE, FLAG_SOURCE, BuildSchemas, InstanceHeartbeats, MigrationMetrics, MigrationsHealthIndicator],
    };
  }
}
