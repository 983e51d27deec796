import type { NextFunction, Request, Response } from 'express';
import { STATUS_CODES } from 'node:http';
import type { ErrorResponse } from './error-response.types';

/** What this middleware needs of an Express router layer (express 5 / router 2). */
interface RouteLayer {
  route?: { path: string; methods: Record<string, boolean> };
  match(path: string): boolean;
}

/**
 * Express middleware answering 405 with `Allow` (in the {@link ErrorResponse} shape) for a method
 * that no route of a known path handles, e.g. `TRACE /customers`; unknown paths stay 404. The
 * routes are read from `router` at the first request, once the app has registered them.
 */
export function answerMethodNotAllowed(router: () => { stack: unknown[] }) {
  let routes: RouteLayer[] | undefined;
  return (req: Request, res: Response, next: NextFunction): void => {
    // Catch-all routes (`{/*splat}`, e.g. the OpenAPI UI's assets) say nothing about a path.
    routes ??= (router().stack as RouteLayer[]).filter((layer) => layer.route && !layer.route.path.includes('*'));
    const matching = routes.filter((layer) => layer.match(req.path));
    if (!matching.length) return next();
    const allowed = new Set(matching.flatMap((layer) => Object.keys(layer.route?.methods ?? {}).map((m) => m.toUpperCase())));
    if (allowed.has('GET')) allowed.add('HEAD');
    if (allowed.has(req.method) || allowed.has('_ALL')) return next();
    const allow = [...allowed].sort().join(', ');
    const body: ErrorResponse = {
      statusCode: 405,
      error: STATUS_CODES[405] ?? 'Method Not Allowed',
      message: `${req.method} is not allowed on ${req.path}; allowed: ${allow}`,
      ...(req.id !== undefined && { requestId: String(req.id) }),
    };
    res.setHeader('Allow', allow);
    res.status(405).json(body);
  };
}
