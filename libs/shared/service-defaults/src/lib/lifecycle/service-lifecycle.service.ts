import { Injectable } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';

/**
 * Where the process is in its life. Shutdown starts with {@link beginShutdown}: from then on
 * readiness reports 503 and every response not yet sent carries `Connection: close`, so
 * keep-alive clients reconnect (to another instance) instead of holding this one open.
 */
@Injectable()
export class ServiceLifecycle {
  private shuttingDown = false;
  private readonly inFlight = new Set<Response>();

  /** True once shutdown has begun. */
  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /** Requests received and not yet answered (or aborted). */
  get inFlightRequests(): number {
    return this.inFlight.size;
  }

  /** Marks the process as shutting down. Returns false if it already was. */
  beginShutdown(): boolean {
    if (this.shuttingDown) return false;
    this.shuttingDown = true;
    for (const res of this.inFlight) if (!res.headersSent) res.setHeader('Connection', 'close');
    return true;
  }

  /** Express middleware: tracks in-flight requests and asks for `Connection: close` once shutdown has begun. */
  readonly trackRequests = (_req: Request, res: Response, next: NextFunction): void => {
    if (this.shuttingDown) res.setHeader('Connection', 'close');
    this.inFlight.add(res);
    res.once('close', () => this.inFlight.delete(res));
    next();
  };
}
