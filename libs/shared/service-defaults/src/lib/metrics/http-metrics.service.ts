import { Injectable } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/** Route label of requests that matched no route (404s, bodies rejected before routing). */
export const UNMATCHED_ROUTE = 'unmatched';

/** Creates the service's Prometheus registry, with the default process metrics already in it. */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

/**
 * `http_requests_total` and `http_request_duration_seconds`, labelled by method, route
 * template (`/customers/:id`, never the raw URL) and status.
 */
@Injectable()
export class HttpMetrics {
  private readonly requests: Counter<'method' | 'route' | 'status'>;
  private readonly duration: Histogram<'method' | 'route' | 'status'>;

  constructor(registry: Registry) {
    const labelNames = ['method', 'route', 'status'] as const;
    this.requests = new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests answered, by method, route template and status code.',
      labelNames,
      registers: [registry],
    });
    this.duration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'Time to answer an HTTP request, by method, route template and status code.',
      labelNames,
      registers: [registry],
    });
  }

  /** Express middleware; mount it first so that requests rejected by later middleware count too. */
  readonly measureRequests = (req: Request, res: Response, next: NextFunction): void => {
    const stopTimer = this.duration.startTimer();
    res.once('finish', () => {
      const labels = { method: req.method, route: routeOf(req), status: String(res.statusCode) };
      this.requests.inc(labels);
      stopTimer(labels);
    });
    next();
  };
}

function routeOf(req: Request): string {
  const path: unknown = req.route?.path;
  return typeof path === 'string' ? `${req.baseUrl}${path}` : UNMATCHED_ROUTE;
}
