import { ORDERS_COLLECTION } from '@zdm/orders-domain';
import type { MigrationRegistry } from '@zdm/migrations-core';
import { VersionedRepository, versionedModel, type StoredDocument, type UpcastEvent } from '@zdm/migrations-mongo';
import { Schema, type Connection } from 'mongoose';

/** An order document as the repository hands it out (upcast; `_id`, `_v`, `_rev` split off). */
export type StoredOrder = StoredDocument;

/** Thrown when an update kept losing the race against other writers. */
export class OrderWriteConflictError extends Error {
  constructor(readonly id: string, attempts: number) {
    super(`order ${id} kept changing while it was being updated (${attempts} attempts); try again`);
    this.name = 'OrderWriteConflictError';
  }
}

/** Options of {@link createOrdersRepository}: what this build reads and writes. */
export interface OrdersModelOptions {
  /** The migrations this build knows; reads upcast along their `up` chain. */
  registry: MigrationRegistry;
  /** Lowest order document version this build reads. */
  readMin: number;
  /** Highest order document version this build reads (and the one reads are upcast to). */
  readMax: number;
  /** The version writes stamp now (follows the write-new flags); a write may pin its own instead. */
  writeVersion: () => number;
  /** Called for every document upcast in memory on read (e.g. the lazy-upcast metric). */
  onUpcast?: (event: UpcastEvent) => void;
  /** Whether the server's conditional updates are atomic. Default: asked at the first update. */
  atomicUpdates?: boolean;
}

/**
 * The fields order documents of this build's versions have. Lines and the customer snapshot are
 * free-form sub-documents (their shape changes with the migrations, and the service checks them).
 */
const ORDER_FIELDS = {
  customerId: String,
  customer: { type: Schema.Types.Mixed },
  currency: String,
  lines: { type: Schema.Types.Mixed },
  total: Number,
  status: String,
};

/** Orders in MongoDB: a versioned repository over the `orders` collection (see `VersionedRepository`). */
export class OrdersRepository extends VersionedRepository {}

/**
 * The orders repository on `connection`: versioned model (stamps `_v`, bumps `_rev`), compare-and-set
 * updates through the migration runner's write seam, and an index for a customer's orders in id order.
 * Fields outside the schema are refused rather than silently dropped.
 */
export function createOrdersRepository(connection: Connection, options: OrdersModelOptions): OrdersRepository {
  const model = versionedModel(connection, {
    ...options,
    collection: ORDERS_COLLECTION,
    modelName: 'Order',
    fields: ORDER_FIELDS,
    indexes: [{ customerId: 1, _id: 1 }],
  });
  return new OrdersRepository({ ...model, conflictError: (id, attempts) => new OrderWriteConflictError(id, attempts) });
}
