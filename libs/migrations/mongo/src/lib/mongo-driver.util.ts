import { mongo } from 'mongoose';

/**
 * An `_id` of any BSON type, as far as the driver's filter types are concerned (they accept neither
 * `unknown` nor `any` there). Values are passed through untouched.
 */
export type AnyId = mongo.ObjectId | string | number | boolean | Date | mongo.Binary | mongo.Long | mongo.Decimal128 | mongo.Timestamp;

/** A stored document whose `_id` may be of any BSON type (the driver's default assumes ObjectId). */
export interface AnyIdDocument extends mongo.Document {
  _id?: AnyId;
}

/** A collection of {@link AnyIdDocument}s. */
export type AnyIdCollection = mongo.Collection<AnyIdDocument>;

/** The collection `name` of `db`, typed for `_id`s of any type. */
export const anyIdCollection = (db: mongo.Db, name: string): AnyIdCollection => db.collection<AnyIdDocument>(name);

/** Whether the server refused a write because the key exists (E11000). */
export const isDuplicateKey = (err: unknown): boolean => (err as { code?: number } | null)?.code === 11000;

/** Runs `create` once; a failure is not remembered, so the next call tries again. */
export function once<T = void>(create: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | null = null;
  return () =>
    (pending ??= create().catch((err: unknown) => {
      pending = null;
      throw err;
    }));
}

/**
 * Whether an error is FerretDB-on-SQLite's "database is locked" (SQLITE_BUSY): the statement did
 * not commit and may be sent again. Under concurrent writers SQLite returns it when a read
 * transaction cannot become a write transaction, without waiting for its busy timeout.
 */
export const isTransientLock = (err: unknown): boolean => /SQLITE_BUSY|database is locked/.test(String((err as { message?: unknown } | null)?.message ?? err));

/** Runs `work`, again (up to `attempts` times, with short growing pauses) while it fails with {@link isTransientLock}. */
export async function retryWhileLocked<T>(work: () => Promise<T>, attempts = 8): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (err) {
      if (attempt >= attempts || !isTransientLock(err)) throw err;
      await new Promise((r) => setTimeout(r, Math.random() * 5 * 2 ** attempt));
    }
  }
}

/**
 * `work` over every item with at most `limit` calls in flight; resolves the results in the items'
 * order. Rejects with the first failure, once the calls already started have settled.
 */
export async function mapConcurrently<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | null = null;
  const lane = async () => {
    while (!failure && next < items.length) {
      const index = next++;
      try {
        results[index] = await work(items[index]);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
  if (failure) throw (failure as { error: unknown }).error;
  return results;
}
