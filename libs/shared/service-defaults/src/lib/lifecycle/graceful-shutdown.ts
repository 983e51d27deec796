import type { INestApplication } from '@nestjs/common';
import type { Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { ServiceConfig } from '../config/service-config.schema';
import { ServiceLifecycle } from './service-lifecycle.service';

/** What {@link shutDownGracefully} needs to know. */
export interface GracefulShutdownOptions {
  /** The signal (or reason) that started the shutdown, for the logs. */
  reason: string;
  /** Where the shutdown phases are logged. */
  logger: Logger;
  /** Drain and timeout settings, from the service config. */
  config: Pick<ServiceConfig, 'SHUTDOWN_DRAIN_MS' | 'SHUTDOWN_TIMEOUT_MS'>;
}

/**
 * Blue-green friendly shutdown; resolves to the exit code.
 * 1. readiness turns 503 and responses carry `Connection: close`;
 * 2. wait `SHUTDOWN_DRAIN_MS`, so the load balancer sees it and sends new traffic elsewhere;
 * 3. stop accepting connections, close idle keep-alive ones, let in-flight requests finish;
 * 4. run Nest's shutdown hooks (`onModuleDestroy`, `onApplicationShutdown`: database clients close here).
 * Past `SHUTDOWN_TIMEOUT_MS` in all, the remaining connections are cut and the code is 1.
 */
export async function shutDownGracefully(app: INestApplication, options: GracefulShutdownOptions): Promise<number> {
  const { reason, logger, config } = options;
  const startedAt = Date.now();
  const elapsed = () => Date.now() - startedAt;
  const server = app.getHttpServer() as Server;
  const lifecycle = app.get(ServiceLifecycle);
  if (!lifecycle.beginShutdown()) return 0;
  logger.info({ reason, drainMs: config.SHUTDOWN_DRAIN_MS }, 'Shutdown started: readiness is 503, draining');

  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<number>((resolve) => {
    timer = setTimeout(() => {
      logger.error(
        { elapsedMs: elapsed(), inFlight: lifecycle.inFlightRequests },
        'Shutdown timed out: cutting open connections',
      );
      server.closeAllConnections();
      resolve(1);
    }, config.SHUTDOWN_TIMEOUT_MS);
  });
  const orderly = async () => {
    await sleep(config.SHUTDOWN_DRAIN_MS);
    logger.info(
      { elapsedMs: elapsed(), inFlight: lifecycle.inFlightRequests },
      'Drain over: no longer accepting connections, finishing in-flight requests',
    );
    await new Promise<void>((resolve) => server.close(() => resolve()));
    logger.info({ elapsedMs: elapsed() }, 'HTTP server closed: running shutdown hooks');
    await app.close();
    logger.info({ elapsedMs: elapsed() }, 'Shutdown complete');
    return 0;
  };
  try {
    return await Promise.race([orderly(), timedOut]);
  } catch (error) {
    logger.error({ err: error, elapsedMs: elapsed() }, 'Shutdown failed');
    return 1;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs {@link shutDownGracefully} on SIGTERM or SIGINT, then exits with its code.
 * A second signal during shutdown exits at once, with 1.
 */
export function exitGracefullyOnSignals(app: INestApplication, options: Omit<GracefulShutdownOptions, 'reason'>): void {
  let shuttingDown = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (shuttingDown) {
      options.logger.warn({ signal }, 'Second signal during shutdown: exiting now');
      process.exit(1);
    }
    shuttingDown = true;
    void shutDownGracefully(app, { ...options, reason: signal }).then((code) => process.exit(code));
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
