import { CUSTOMERS_COLLECTION } from '@zdm/customers-domain';
import type { Doc, MigrationRegistry } from '@zdm/migrations-core';
import { createDocumentWriter, createUpcaster, versionedPlugin, type UpcastEvent } from '@zdm/migrations-mongo';
import { AsyncLocalStorage } from 'node:async_hooks';
import { Schema, type Connection, type Model, type mongo } from 'mongoose';
import { CustomersRepository } from './customers.repository';

/** Options of {@link createCustomersRepository}: what this build reads and writes. */
export interface CustomersModelOptions {
  /** The migrations this build knows; reads upcast along their `up` chain. */
  registry: MigrationRegistry;
  /** Lowest customer document version this build reads. */
  readMin: number;
  /** Highest customer document version this build reads (and the one reads are upcast to). */
  readMax: number;
  /** The version writes stamp now (follows the write-new flags); a write may pin its own instead. */
  writeVersion: () => number;
  /** Called for every document upcast in memory on read (e.g. the lazy-upcast metric). */
  onUpcast?: (event: UpcastEvent) => void;
  /** Whether the server's conditional updates are atomic. Default: asked at the first update (MongoDB yes, FerretDB 1.x no). */
  atomicUpdates?: boolean;
}

/** The fields customer documents of this build's versions have (v1 names, v2 full name, v3 status). */
const CUSTOMER_FIELDS = {
  firstName: String,
  lastName: String,
  fullName: String,
  firstNameLength: Number,
  status: String,
  marketingPreferences: { type: Schema.Types.Mixed },
};

/**
 * The customers model on `connection` with the versioned plugin (stamps `_v`, bumps `_rev`,
 * refuses versions this build does not know), and a repository reading through the same rules.
 * Fields outside the schema are refused (`strict: 'throw'`) rather than silently dropped.
 */
export function createCustomersRepository(connection: Connection, options: CustomersModelOptions): CustomersRepository {
  // A write pins the version it shaped its document for, so a flag flipping mid-request cannot relabel it.
  const pinned = new AsyncLocalStorage<number>();
  const versioned = { ...options, collection: CUSTOMERS_COLLECTION, writeVersion: () => pinned.getStore() ?? options.writeVersion() };
  const schema = new Schema<Doc>(CUSTOMER_FIELDS, { collection: CUSTOMERS_COLLECTION, timestamps: true, versionKey: false, strict: 'throw' });
  schema.plugin(versionedPlugin, versioned);
  const model = (connection.models['Customer'] ?? connection.model<Doc>('Customer', schema)) as Model<Doc>;
  const upcaster = createUpcaster(versioned);
  return new CustomersRepository({
    model,
    upcast: (raw) => upcaster.upcast(raw).doc,
    pin: (version, work) => (version === undefined ? work() : pinned.run(version, work)),
    // The migration runner's write seam (claims in `zdm_claims` where the server needs them),
    // chosen at the first write, once the connection is open.
    writer: createDocumentWriter(() => connection.db as mongo.Db, { atomicUpdates: options.atomicUpdates }),
  });
}
