import { ORDERS_COLLECTION } from '@zdm/orders-domain';
import { VersionedRepository, versionedModel, type StoredDocument, type ModelVersionOptions } from '@zdm/migrations-mongo';
import { Schema, type Connection } from 'mongoose';

/** An order document as the repository hands it out (upcast; `_id`, `_v`, `_rev` split off). */
export type StoredOrder = StoredDocument;

/** Options of {@link createOrdersRepository}: what this build reads and writes of order documents. */
export type OrdersModelOptions = ModelVersionOptions;

/**
 * The fields order documents of this build's versions have. Lines and the customer snapshot are
 * free-form sub-documents (their shape changes with the migrations, and the service checks them).
 */
const ORDER_FIELDS = {
  customerId: String,
  customer: { type: Schema.Types.Mixed },
  currency: String,
  status: String,
  // v1: money as float major units.
  lines: { type: Schema.Types.Mixed },
  total: Number,
  // v2 (orders.money): integer minor units with their currency.
  totalMoney: { type: Schema.Types.Mixed },
  items: { type: Schema.Types.Mixed },
  // v3 (orders.customer-snapshot): { fullName }.
  customerSnapshot: { type: Schema.Types.Mixed },
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
  return new OrdersRepository({ ...model, entity: 'order' });
}
