import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_INTERCEPTOR, APP_PIPE } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { LoggerModule } from 'nestjs-pino';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { loadServiceConfig } from './config/service-config.loader';
import type { ServiceConfig, ServiceConfigSchema } from './config/service-config.schema';
import { SERVICE_CONFIG } from './config/service-config.token';
import { InstanceFacts } from './facts/instance-facts.registry';
import { HealthController } from './health/health.controller';
import { ReadinessRegistry } from './health/readiness.registry';
import { HttpErrorFilter } from './http/http-error.filter';
import { createInputValidationPipe } from './http/input-validation.pipe';
import { ServiceLifecycle } from './lifecycle/service-lifecycle.service';
import { RequestDeadlineInterceptor } from './resilience/request-deadline';
import { ServiceIdentity } from './logging/service-identity.service';
import { createRootLogger, ROOT_LOGGER } from './logging/service-logger.factory';
import { createMetricsRegistry, HttpMetrics } from './metrics/http-metrics.service';
import { MetricsController } from './metrics/metrics.controller';

/** Options of {@link ServiceDefaultsModule.forRoot}. */
export interface ServiceDefaultsOptions<S extends ServiceConfigSchema = ServiceConfigSchema> {
  /** The service's own environment variables, merged over `commonConfigSchema`; validated once, at startup. */
  config?: S;
}

/**
 * Config, logging, health, metrics and input safety for one service. Import it once, in the
 * app module; it is global, so every module can inject `ReadinessRegistry`, `InstanceFacts`, the prom-client
 * `Registry` and the config (`@InjectServiceConfig()`).
 */
@Module({})
export class ServiceDefaultsModule {
  static forRoot<S extends ServiceConfigSchema>(options: ServiceDefaultsOptions<S> = {}): DynamicModule {
    return {
      module: ServiceDefaultsModule,
      global: true,
      imports: [
        TerminusModule.forRoot(),
        LoggerModule.forRootAsync({
          inject: [ROOT_LOGGER],
          // The request-logging middleware is mounted by configureServiceApp, ahead of the body parsers.
          useFactory: (logger: Logger) => ({ pinoHttp: { logger }, useExisting: true }),
        }),
      ],
      controllers: [HealthController, MetricsController],
      providers: [
        { provide: SERVICE_CONFIG, useFactory: () => loadServiceConfig(options.config) },
        ServiceIdentity,
        {
          provide: ROOT_LOGGER,
          inject: [SERVICE_CONFIG, ServiceIdentity],
          useFactory: (config: ServiceConfig, identity: ServiceIdentity) =>
            createRootLogger({ level: config.LOG_LEVEL, service: () => identity.name }),
        },
        { provide: Registry, useFactory: createMetricsRegistry },
        HttpMetrics,
        ServiceLifecycle,
        ReadinessRegistry,
        InstanceFacts,
        { provide: APP_PIPE, useFactory: createInputValidationPipe },
        { provide: APP_FILTER, useClass: HttpErrorFilter },
        { provide: APP_INTERCEPTOR, useClass: RequestDeadlineInterceptor },
      ],
      exports: [
        SERVICE_CONFIG,
        ROOT_LOGGER,
        Registry,
        HttpMetrics,
        ServiceLifecycle,
        ReadinessRegistry,
        InstanceFacts,
        ServiceIdentity,
      ],
    };
  }
}
