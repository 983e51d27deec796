import { mongo } from 'mongoose';

/** One document to seed: what is stored, and its value as the API returns it (the load's first acknowledged write). */
export interface SeedDocument {
  doc: Record<string, unknown>;
  value: Record<string, unknown>;
}

/** Options of {@link seedDocuments}. */
export interface SeedOptions {
  db: mongo.Db;
  collection: string;
  count: number;
  /** The `i`-th document, in the v1 shape the previous build (blue) writes, without `_id`, `_v` and `_rev`. */
  make: (i: number) => SeedDocument;
  /** Every n-th document is written without `_v`/`_rev`, as data from before versioning. Default 10; 0: none. */
  unversionedEvery?: number;
  /** Documents per insert command. Default 1000. */
  batchSize?: number;
}

/**
 * Writes `count` documents as the previous build (blue) writes them: the shape `make` gives,
 * timestamps, `_v: 1` and `_rev: 1`. Every `unversionedEvery`-th one has no `_v` and no `_rev`, like
 * documents written before the service stamped versions (a missing `_v` means v1). Resolves to
 * `[id, value]` of each, the first acknowledged writes of the run.
 */
export async function seedDocuments(options: SeedOptions): Promise<[string, Record<string, unknown>][]> {
  const { db, count } = options;
  const every = options.unversionedEvery ?? 10;
  const batchSize = options.batchSize ?? 1_000;
  const collection = db.collection(options.collection);
  const seeds: [string, Record<string, unknown>][] = [];
  for (let from = 0; from < count; from += batchSize) {
    const docs: mongo.OptionalId<mongo.Document>[] = [];
    for (let i = from; i < Math.min(count, from + batchSize); i++) {
      const { doc, value } = options.make(i);
      const _id = new mongo.ObjectId();
      const at = new Date();
      const versioned = !(every > 0 && i % every === every - 1);
      docs.push({ _id, ...doc, createdAt: at, updatedAt: at, ...(versioned ? { _v: 1, _rev: 1 } : {}) });
      seeds.push([_id.toHexString(), value]);
    }
    await collection.insertMany(docs, { ordered: false });
  }
  return seeds;
}
