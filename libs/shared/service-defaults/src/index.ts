// Service defaults: config, logs, health, metrics, OpenAPI, graceful shutdown and safe input
// for every zdm service (see README.md).
export {
  bootstrapService,
  configureServiceApp,
  createServiceApp,
  type ServiceOptions,
} from './lib/bootstrap/service-app';
export { ConfigValidationError, loadServiceConfig, type ConfigProblem } from './lib/config/service-config.loader';
export {
  commonConfigSchema,
  type CommonConfig,
  envInt,
  LOG_LEVELS,
  type ServiceConfig,
  type ServiceConfigSchema,
} from './lib/config/service-config.schema';
export { InjectServiceConfig, SERVICE_CONFIG } from './lib/config/service-config.token';
export { InstanceFacts, type InstanceFactReader } from './lib/facts/instance-facts.registry';
export { ReadinessRegistry, type ReadinessCheck, type ReadinessCheckOptions } from './lib/health/readiness.registry';
export type { ErrorResponse, FieldError } from './lib/http/error-response.types';
export { RETRY_AFTER_SECONDS } from './lib/http/http-error.filter';
export { ErrorResponseBody, FieldErrorBody } from './lib/openapi/error-response.schema';
export { completeServiceDocument } from './lib/openapi/openapi-document';
export { MAX_INPUT_DEPTH } from './lib/http/operator-keys.middleware';
export { shutDownGracefully, type GracefulShutdownOptions } from './lib/lifecycle/graceful-shutdown';
export { ServiceLifecycle } from './lib/lifecycle/service-lifecycle.service';
export { ROOT_LOGGER } from './lib/logging/service-logger.factory';
export { UNMATCHED_ROUTE } from './lib/metrics/http-metrics.service';
export {
  classifyDependencyError,
  DependencyUnavailableError,
  RequestDeadlineExceededError,
  type DependencyFailure,
} from './lib/resilience/dependency-errors';
export { trackMongoCommands, type CommandMonitor } from './lib/resilience/mongo-commands.tracker';
export { mongooseDeadlinePlugin, type MongooseDeadlinePluginOptions } from './lib/resilience/mongoose-deadline.plugin';
export { currentDeadline, remainingMs, runWithDeadline, waitingOn } from './lib/resilience/request-deadline';
export { ServiceDefaultsModule, type ServiceDefaultsOptions } from './lib/service-defaults.module';
