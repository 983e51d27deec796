import { mongo } from 'mongoose';
import { nameFor } from './load.model';

/** Options of {@link seedCustomers}. */
export interface SeedOptions {
  db: mongo.Db;
  collection: string;
  count: number;
  /** Every n-th document is written without `_v`/`_rev`, as data from before versioning. Default 10; 0: none. */
  unversionedEvery?: number;
  /** Documents per insert command. Default 1000. */
  batchSize?: number;
}

/**
 * Writes `count` customers in the v1 shape the previous build (blue) writes: `firstName`,
 * `lastName`, timestamps, `_v: 1` and `_rev: 1`. Every `unversionedEvery`-th one has no `_v` and no
 * `_rev`, like documents written before the service stamped versions (a missing `_v` means v1).
 * Resolves to `[id, firstName, lastName]` of each, the first acknowledged writes of the run.
 */
export async function seedCustomers(options: SeedOptions): Promise<[string, string, string][]> {
  const { db, count } = options;
  const every = options.unversionedEvery ?? 10;
  const batchSize = options.batchSize ?? 1_000;
  const collection = db.collection(options.collection);
  const seeds: [string, string, string][] = [];
  for (let from = 0; from < count; from += batchSize) {
    const docs: mongo.OptionalId<mongo.Document>[] = [];
    for (let i = from; i < Math.min(count, from + batchSize); i++) {
      // Names from the load's own generator, numbered apart from the load's (which counts from 0).
      const name = nameFor(1_000_000 + i, (i * 7919) % 1000 / 1000);
      const _id = new mongo.ObjectId();
      const at = new Date();
      const versioned = !(every > 0 && i % every === every - 1);
      docs.push({ _id, ...name, createdAt: at, updatedAt: at, ...(versioned ? { _v: 1, _rev: 1 } : {}) });
      seeds.push([_id.toHexString(), name.firstName, name.lastName]);
    }
    await collection.insertMany(docs, { ordered: false });
  }
  return seeds;
}
