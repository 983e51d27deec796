import type { Doc } from '@zdm/migrations-core';
import { mongo } from 'mongoose';
import { BatchWriter, BatchWriterOptions, ClaimingBatches, CompareAndSetBatches } from './document-batch.writer';
import { DocumentClaims, type DocumentClaimsOptions, hasAtomicUpdates } from './document.claims';
import { matchValue } from './document.diff';
import { AnyIdCollection, isTransientLock, once } from './mongo-driver.util';

/**
 * How a server's documents are changed while other writers race:
 * - `compare-and-set` (MongoDB, mongo-java-server): the update's filter holds the conditions (the
 *   document's `_rev` and `_v` as read) and the server applies filter and write atomically;
 * - `claims` (FerretDB 1.x): the server matches and writes in separate steps, so each writer first
 *   takes a per-document claim ({@link DocumentClaims}), then reads and writes by `_id` alone.
 */
export type WriteMode = 'compare-and-set' | 'claims';

/** Per-call options of a write. */
export interface WriteOptions {
  /**
   * Epoch ms after which this write must not land (e.g. the HTTP request's deadline). Nothing is
   * sent once it has passed. With compare-and-set the update's filter also carries it, so the
   * server refuses a command that reaches it late; with claims the claim is held until the
   * command's outcome is known, so no later writer of the document can be acknowledged first.
   */
  deadline?: number;
}

/** One read-modify-write of one document, as the caller performs its reads and writes. */
export interface DocumentUpdateStep<R> {
  /** Reads the document by `_id`, `_rev` included; null when there is none. */
  read(): Promise<Doc | null>;
  /** The update (operators) to apply to `current`; it may run more than once. Null: nothing to write. */
  decide(current: Doc): Doc | null | Promise<Doc | null>;
  /**
   * Sends `update` with exactly `filter` (it may hold `$expr`); resolves what the caller wants
   * back, or null when the filter matched no document. The update must bump `_rev`.
   */
  write(filter: Doc, update: Doc): Promise<R | null>;
}

/** Options of {@link DocumentWriter.update}. */
export interface UpdateOptions extends WriteOptions {
  /**
   * Attempts when another writer got there first. Default 8. With claims and a deadline, a claim
   * held by another writer is waited for until the deadline instead.
   */
  maxAttempts?: number;
}

/** What an update resolves: the caller's write result, the document when nothing needed writing, or null when there is no document. */
export type UpdateResult<R> = { written: R } | { unchanged: Doc } | null;

/** Thrown when a write's deadline passed before it could be sent (nothing of it was written). */
export class WriteDeadlineExceededError extends Error {
  constructor(readonly namespace: string, readonly id: string) {
    super(`${namespace} ${id}: the write's deadline passed before it was sent; nothing was written`);
    this.name = 'WriteDeadlineExceededError';
  }
}

/** Thrown when a document kept changing under an update for all its attempts. */
export class WriteConflictError extends Error {
  constructor(readonly namespace: string, readonly id: string, readonly attempts: number) {
    super(`${namespace} ${id} kept changing while it was being updated (${attempts} attempts); try again`);
    this.name = 'WriteConflictError';
  }
}

/**
 * The one place that knows how documents are written safely on this server. Chosen once per
 * database from `buildInfo` (see {@link createDocumentWriter}); the migration runner's targets and
 * every service repository write through it, so none of them branches on the server.
 */
export interface DocumentWriter {
  /** Which implementation the server needs; asked once. */
  mode(): Promise<WriteMode>;
  /**
   * Reads the document, lets `step.decide` compute the update and writes it only if no other writer
   * changed the document in between; on a conflict reads again and decides again. The document of
   * `namespace` (its collection's name) with encoded id `id` is the one `step` reads and writes.
   */
  update<R>(namespace: string, id: string, step: DocumentUpdateStep<R>, options?: UpdateOptions): Promise<UpdateResult<R>>;
  /**
   * Deletes the document (raw `_id`) with `remove(filter)`, which resolves how many it deleted,
   * under the same guarantees: nothing sent after the deadline, and no later writer acknowledged
   * before it lands.
   */
  remove(namespace: string, id: string, _id: unknown, remove: (filter: Doc) => Promise<number>, options?: WriteOptions): Promise<number>;
  /**
   * Page reads, re-reads and compare-and-set writes of many documents of `collection`, for a
   * caller holding a fenced lease on its walk (the migration runner's targets). One per walk: it
   * keeps the walk's state (an open cursor, whether it met another writer).
   */
  batches(collection: AnyIdCollection, options: BatchWriterOptions): Promise<BatchWriter>;
}

/** Options of {@link createDocumentWriter}. */
export interface DocumentWriterOptions extends DocumentClaimsOptions {
  /** Whether the server applies an update's filter and write atomically. Default: asked once with `buildInfo`. */
  atomicUpdates?: boolean;
}

/** A short, growing, jittered pause before retrying a lost race, so the winner can finish. */
const backOff = (attempt: number) => new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * 2 ** Math.min(attempt, 6)));

/** The `$expr` that lets the server apply a write only before `deadline` (server clock). */
export function beforeDeadlineFilter(deadline: number): Doc {
  return { $expr: { $lt: ['$$NOW', new Date(deadline)] } };
}

/**
 * Whether a failed command was answered by the server, so its outcome is known (it did not apply).
 * A network error or a client-side timeout leaves it unknown: the command may still be in the
 * server's socket buffer and apply later.
 */
export function serverAnswered(err: unknown): boolean {
  return err instanceof mongo.MongoServerError && !(err instanceof mongo.MongoNetworkError);
}

/** Attempts a delete makes to claim a document another writer holds. */
const REMOVE_ATTEMPTS = 8;

/** With a deadline, a writer waits for a held claim until the deadline; without one, `attempts` times. */
const attemptsFor = (deadline: number | undefined, attempts: number) => (deadline === undefined ? attempts : Infinity);

const tooLate = (deadline: number | undefined) => deadline !== undefined && Date.now() >= deadline;

/**
 * Compare-and-set on `_rev` and `_v`, with the deadline in the filter: for servers whose updates
 * are atomic. `_v` is there because the migration runner changes it without bumping `_rev`, and an
 * update decided on one version must not land on another.
 */
class CompareAndSetWriter {
  async update<R>(namespace: string, id: string, step: DocumentUpdateStep<R>, options: UpdateOptions): Promise<UpdateResult<R>> {
    const { deadline } = options;
    const maxAttempts = options.maxAttempts ?? 8;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      if (attempt > 1) await backOff(attempt);
      if (tooLate(deadline)) throw new WriteDeadlineExceededError(namespace, id);
      const current = await step.read();
      if (!current) return null;
      const update = await step.decide(current);
      if (!update) return { unchanged: current };
      if (tooLate(deadline)) throw new WriteDeadlineExceededError(namespace, id);
      const filter: Doc = { _id: current['_id'], _rev: matchValue(current['_rev']), _v: matchValue(current['_v']) };
      if (deadline !== undefined) Object.assign(filter, beforeDeadlineFilter(deadline));
      const written = await step.write(filter, update);
      if (written !== null) return { written };
      // No match: another writer changed `_rev` or `_v`, the document is gone, or the server saw the deadline pass.
      if (tooLate(deadline)) throw new WriteDeadlineExceededError(namespace, id);
    }
    throw new WriteConflictError(namespace, id, maxAttempts);
  }

  async remove(namespace: string, id: string, _id: unknown, remove: (filter: Doc) => Promise<number>, { deadline }: WriteOptions): Promise<number> {
    if (tooLate(deadline)) throw new WriteDeadlineExceededError(namespace, id);
    const deleted = await remove(deadline === undefined ? { _id } : { _id, ...beforeDeadlineFilter(deadline) });
    if (!deleted && tooLate(deadline)) throw new WriteDeadlineExceededError(namespace, id);
    return deleted;
  }
}

/**
 * Claims, then reads and writes by `_id` alone (the only filter FerretDB 1.x hands to its storage):
 * for servers whose updates are not atomic. A claim is let go only once the write's outcome is
 * known; after a network error it stays until it is stale, because the command may still apply.
 */
class ClaimingWriter {
  constructor(private readonly claims: DocumentClaims) {}

  update<R>(namespace: string, id: string, step: DocumentUpdateStep<R>, options: UpdateOptions): Promise<UpdateResult<R>> {
    const { deadline } = options;
    return this.withClaim(namespace, id, deadline, attemptsFor(deadline, options.maxAttempts ?? 8), async (send) => {
      // The claim may have come back late (a stalled server): decide nothing after the deadline.
      if (tooLate(deadline)) throw new WriteDeadlineExceededError(namespace, id);
      const current = await step.read();
      if (!current) return null;
      const update = await step.decide(current);
      if (!update) return { unchanged: current };
      const written = await send(() => step.write({ _id: current['_id'] }, update));
      return written === null ? null : { written };
    });
  }

  remove(namespace: string, id: string, _id: unknown, remove: (filter: Doc) => Promise<number>, { deadline }: WriteOptions): Promise<number> {
    return this.withClaim(namespace, id, deadline, attemptsFor(deadline, REMOVE_ATTEMPTS), (send) => send(() => remove({ _id })));
  }

  /**
   * Runs `work` holding the document's claim, trying `maxAttempts` times to take it. `work` sends
   * its writes with `send`; the claim is let go afterwards unless a write's outcome is unknown.
   */
  private async withClaim<T>(
    namespace: string,
    id: string,
    deadline: number | undefined,
    maxAttempts: number,
    work: (send: <C>(command: () => Promise<C>) => Promise<C>) => Promise<T>,
  ): Promise<T> {
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      if (attempt > 1) await backOff(attempt);
      if (tooLate(deadline)) throw new WriteDeadlineExceededError(namespace, id);
      const release = await this.claims.take(namespace, id);
      if (!release) continue;
      let outcomeKnown = true;
      const send = async <C>(command: () => Promise<C>): Promise<C> => {
        const sent = await this.send(namespace, id, deadline, command);
        outcomeKnown = sent.known;
        if ('error' in sent) throw sent.error;
        return sent.value;
      };
      try {
        return await work(send);
      } finally {
        if (outcomeKnown) await release();
      }
    }
    throw new WriteConflictError(namespace, id, maxAttempts);
  }

  /**
   * Sends one command under a held claim, never after the deadline, and again while the server
   * answers "database is locked" (the statement did not commit). `known` is false when the server
   * gave no answer, so the command may still apply: the caller then keeps the claim.
   */
  private async send<T>(namespace: string, id: string, deadline: number | undefined, command: () => Promise<T>): Promise<{ known: boolean; value: T } | { known: boolean; error: unknown }> {
    for (let sent = 1; ; sent++) {
      if (tooLate(deadline)) return { known: true, error: new WriteDeadlineExceededError(namespace, id) };
      try {
        return { known: true, value: await command() };
      } catch (error) {
        const known = serverAnswered(error);
        if (!known || sent >= 8 || !isTransientLock(error)) return { known, error };
        await backOff(sent);
      }
    }
  }
}

/** One server's implementations, chosen together. */
interface Implementation {
  mode: WriteMode;
  single: CompareAndSetWriter | ClaimingWriter;
  batches(collection: AnyIdCollection, options: BatchWriterOptions): BatchWriter;
}

/**
 * The {@link DocumentWriter} for `db`, resolved at its first use: compare-and-set where `buildInfo`
 * says the server's updates are atomic, claims (collection `zdm_claims` unless given) where not.
 * This is the only place that decides between the two. `db` may be a function, for a connection
 * that is not open yet.
 */
export function createDocumentWriter(db: mongo.Db | (() => mongo.Db), options: DocumentWriterOptions = {}): DocumentWriter {
  const dbOf = () => (typeof db === 'function' ? db() : db);
  const resolve = once(async (): Promise<Implementation> => {
    if (options.atomicUpdates ?? (await hasAtomicUpdates(dbOf()))) {
      return { mode: 'compare-and-set', single: new CompareAndSetWriter(), batches: (collection, o) => new CompareAndSetBatches(collection, o) };
    }
    const claims = new DocumentClaims(dbOf(), options);
    return { mode: 'claims', single: new ClaimingWriter(claims), batches: (collection, o) => new ClaimingBatches(collection, claims, o) };
  });
  return {
    mode: async () => (await resolve()).mode,
    update: async (namespace, id, step, updateOptions = {}) => (await resolve()).single.update(namespace, id, step, updateOptions),
    remove: async (namespace, id, _id, remove, writeOptions = {}) => (await resolve()).single.remove(namespace, id, _id, remove, writeOptions),
    batches: async (collection, batchOptions) => (await resolve()).batches(collection, batchOptions),
  };
}
