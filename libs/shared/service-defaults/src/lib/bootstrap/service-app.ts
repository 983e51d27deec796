import { type INestApplication, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger as NestPinoLogger } from 'nestjs-pino';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { ConfigValidationError } from '../config/service-config.loader';
import type { ServiceConfig } from '../config/service-config.schema';
import { SERVICE_CONFIG } from '../config/service-config.token';
import { answerMethodNotAllowed } from '../http/method-not-allowed.middleware';
import { rejectOperatorKeys } from '../http/operator-keys.middleware';
import { exitGracefullyOnSignals } from '../lifecycle/graceful-shutdown';
import { ServiceLifecycle } from '../lifecycle/service-lifecycle.service';
import { ServiceIdentity } from '../logging/service-identity.service';
import { createRequestLogger, ROOT_LOGGER } from '../logging/service-logger.factory';
import { HttpMetrics } from '../metrics/http-metrics.service';
import { ErrorResponseBody } from '../openapi/error-response.schema';
import { completeServiceDocument } from '../openapi/openapi-document';
import { requestDeadlineMiddleware } from '../resilience/request-deadline';

/** Who the service is, for logs and the OpenAPI document. */
export interface ServiceOptions {
  /** Short name, e.g. `customers`: the `service` field of every log line and the OpenAPI title. */
  name: string;
  /** API version in the OpenAPI document. Default `1.0.0`. */
  version?: string;
  /** Description in the OpenAPI document. */
  description?: string;
  /** Adds to the OpenAPI document before it is built, e.g. a security scheme (`builder.addBearerAuth(...)`). */
  openApi?: (builder: DocumentBuilder) => DocumentBuilder;
}

/**
 * Applies the defaults to an app that has not been initialised yet: Nest's logs go to pino; the
 * Express middleware is mounted in this order: the deadline's start, request tracking (for
 * shutdown), metrics, request logs, body parsers with the size limit, `$`-key rejection, the
 * deadline's scope (`currentDeadline()`), 405 for a known path's unknown method; and `/docs` is
 * served, completed with the answers the defaults give on every route. Use it on an
 * app from `Test.createTestingModule(...).createNestApplication()` to test a service as it runs.
 * The app module must import `ServiceDefaultsModule.forRoot()`.
 */
export function configureServiceApp<T extends NestExpressApplication>(app: T, options: ServiceOptions): T {
  const config = serviceConfigOf(app);
  app.get(ServiceIdentity).name = options.name;
  app.disable('x-powered-by');
  app.useLogger(app.get(NestPinoLogger));
  app.flushLogs();

  const deadline = requestDeadlineMiddleware(config.REQUEST_TIMEOUT_MS);
  app.use(deadline.stamp);
  app.use(app.get(ServiceLifecycle).trackRequests);
  app.use(app.get(HttpMetrics).measureRequests);
  app.use(createRequestLogger(app.get<Logger>(ROOT_LOGGER)));
  app.useBodyParser('json', { limit: config.HTTP_BODY_LIMIT });
  app.useBodyParser('urlencoded', { limit: config.HTTP_BODY_LIMIT, extended: true });
  app.use(rejectOperatorKeys);
  app.use(deadline.enter);
  const express = app.getHttpAdapter().getInstance() as { router: { stack: unknown[] } };
  app.use(answerMethodNotAllowed(() => express.router));

  const builder = new DocumentBuilder()
    .setTitle(options.name)
    .setVersion(options.version ?? '1.0.0')
    .setDescription(options.description ?? '');
  const document = (options.openApi ? options.openApi(builder) : builder).build();
  SwaggerModule.setup('docs', app, () =>
    completeServiceDocument(SwaggerModule.createDocument(app, document, { extraModels: [ErrorResponseBody] })),
  );
  return app;
}

/** Creates the Nest app for `appModule` with every default applied; it is not listening yet. */
export async function createServiceApp(appModule: Type, options: ServiceOptions): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(appModule, {
    bodyParser: false,
    bufferLogs: true,
    autoFlushLogs: false,
    abortOnError: false,
  });
  return configureServiceApp(app, options);
}

/**
 * Starts a service: validates its config (exit 1 naming every bad variable), listens on `PORT`
 * and shuts down gracefully on SIGTERM/SIGINT. Never rejects: any startup failure is printed
 * to stderr and the process exits 1.
 *
 * ```ts
 * bootstrapService(AppModule, { name: 'customers' });
 * ```
 */
export async function bootstrapService(appModule: Type, options: ServiceOptions): Promise<NestExpressApplication> {
  try {
    const app = await createServiceApp(appModule, options);
    const config = serviceConfigOf(app);
    const logger = app.get<Logger>(ROOT_LOGGER);
    await app.listen(config.PORT);
    exitGracefullyOnSignals(app, { logger, config });
    const { port } = app.getHttpServer().address() as AddressInfo;
    logger.info({ port }, `Listening on port ${port}`);
    return app;
  } catch (error) {
    const detail =
      error instanceof ConfigValidationError ? error.message : error instanceof Error ? error.stack : error;
    process.stderr.write(`[${options.name}] failed to start: ${String(detail)}\n`);
    process.exit(1);
  }
}

function serviceConfigOf(app: INestApplication): ServiceConfig {
  try {
    return app.get<ServiceConfig>(SERVICE_CONFIG);
  } catch {
    throw new Error('The app module must import ServiceDefaultsModule.forRoot() to use the service defaults');
  }
}
