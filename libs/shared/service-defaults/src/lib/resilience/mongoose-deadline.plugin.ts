import type { Query, Schema } from 'mongoose';
import { deadlineError, remainingMs, waitingOn } from './request-deadline';

/** The read operations whose queries get the time left as `maxTimeMS`. */
const READS = ['find', 'findOne', 'countDocuments', 'estimatedDocumentCount', 'distinct'] as const;

const DONE = Symbol('deadline:done');

type TrackedQuery = Query<unknown, unknown> & { [DONE]?: () => void };

/** Options of {@link mongooseDeadlinePlugin}. */
export interface MongooseDeadlinePluginOptions {
  /** The dependency's name, as its readiness check is registered. Default `mongo`. */
  dependency?: string;
}

/**
 * A mongoose plugin for reads made during a request: each query carries the time left before
 * the request's deadline as `maxTimeMS` (the server gives up then, and the driver's error is a
 * 503), a query that would start past the deadline is not sent, and a request still waiting on
 * one at its deadline is answered 503 naming the dependency. Outside a request it does nothing.
 * Writes are left to the caller, which passes `currentDeadline()` explicitly.
 *
 * ```ts
 * connection.plugin(mongooseDeadlinePlugin); // before the models are created
 * ```
 */
export function mongooseDeadlinePlugin(schema: Schema, options: MongooseDeadlinePluginOptions = {}): void {
  const dependency = options.dependency ?? 'mongo';
  schema.pre([...READS], function (this: TrackedQuery) {
    const left = remainingMs();
    if (left === undefined) return;
    if (left === 0) throw deadlineError();
    this.maxTimeMS(left);
    this[DONE] = waitingOn(dependency);
  });
  schema.post([...READS], function (this: TrackedQuery) {
    this[DONE]?.();
  });
  schema.post([...READS], function (this: TrackedQuery, error: Error, _result: unknown, next: (err?: Error) => void) {
    this[DONE]?.();
    next(error);
  });
}
