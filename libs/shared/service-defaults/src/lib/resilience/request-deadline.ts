import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { AsyncLocalStorage } from 'node:async_hooks';
import { type Observable, throwError, timeout } from 'rxjs';
import { DependencyUnavailableError, RequestDeadlineExceededError } from './dependency-errors';

/** What the current request knows about its time budget. */
interface DeadlineScope {
  /** Epoch ms after which the request is answered 503/504 and its store calls should stop. */
  readonly deadline: number;
  /** The request's whole budget, in ms (for messages). */
  readonly budgetMs: number;
  /** Dependencies with a call in flight, and how many calls each. */
  readonly waitingOn: Map<string, number>;
}

const scopes = new AsyncLocalStorage<DeadlineScope>();
const arrivals = new WeakMap<Request, number>();

/** Epoch ms of the current HTTP request's deadline; undefined outside a request. */
export function currentDeadline(): number | undefined {
  return scopes.getStore()?.deadline;
}

/** Milliseconds left before the current request's deadline (0 once passed); undefined outside a request. */
export function remainingMs(now = Date.now()): number | undefined {
  const deadline = currentDeadline();
  return deadline === undefined ? undefined : Math.max(0, deadline - now);
}

/**
 * Runs `work` with `deadline` (epoch ms) as the current deadline, as an HTTP request does: for
 * jobs and tests that call request code outside a request.
 */
export function runWithDeadline<T>(deadline: number, work: () => T): T {
  return scopes.run({ deadline, budgetMs: Math.max(0, deadline - Date.now()), waitingOn: new Map() }, work);
}

/**
 * Marks a call to `dependency` as in flight for the current request until `done` is called, so
 * a request whose deadline passes meanwhile is answered 503 naming it. Outside a request it
 * does nothing.
 */
export function waitingOn(dependency: string): () => void {
  const scope = scopes.getStore();
  if (!scope) return () => undefined;
  scope.waitingOn.set(dependency, (scope.waitingOn.get(dependency) ?? 0) + 1);
  let done = false;
  return () => {
    if (done) return;
    done = true;
    const left = (scope.waitingOn.get(dependency) ?? 1) - 1;
    if (left > 0) scope.waitingOn.set(dependency, left);
    else scope.waitingOn.delete(dependency);
  };
}

/**
 * Express middleware pair: `stamp` records when a request arrived (mount it first), `enter`
 * opens the request's deadline scope (mount it after the body parsers, whose stream callbacks
 * would otherwise run outside it). The deadline is arrival + `budgetMs`.
 */
export function requestDeadlineMiddleware(budgetMs: number) {
  return {
    stamp: (req: Request, _res: Response, next: NextFunction): void => {
      arrivals.set(req, Date.now());
      next();
    },
    enter: (req: Request, _res: Response, next: NextFunction): void => {
      const deadline = (arrivals.get(req) ?? Date.now()) + budgetMs;
      scopes.run({ deadline, budgetMs, waitingOn: new Map() }, next);
    },
  };
}

/** The error a request gets once its deadline passes: 503 naming what it waited on, else 504. */
export function deadlineError(): Error {
  const scope = scopes.getStore();
  const budget = scope ? `${scope.budgetMs} ms` : 'its budget';
  const waited = scope ? [...scope.waitingOn.keys()] : [];
  if (waited.length) {
    return new DependencyUnavailableError(waited.join(', '), `no answer within the request deadline (${budget})`);
  }
  return new RequestDeadlineExceededError(`no answer within the request deadline (${budget})`);
}

/**
 * Answers a request whose handler is still busy at its deadline (see {@link deadlineError}). The
 * handler's late result is dropped; writes that must not land late check the deadline themselves
 * (`currentDeadline()`).
 */
@Injectable()
export class RequestDeadlineInterceptor implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const left = remainingMs();
    if (left === undefined) return next.handle();
    if (left === 0) return throwError(deadlineError);
    return next.handle().pipe(timeout({ first: left, with: () => throwError(deadlineError) }));
  }
}
