import { isObjectIdHex, VersionedRepository, type StoredDocument } from '@zdm/migrations-mongo';

/** A customer document as the repository hands it out (upcast; `_id`, `_v`, `_rev` split off). */
export type StoredCustomer = StoredDocument;

/** Whether `id` is a customer id: 24 hexadecimal characters (an ObjectId). */
export const isCustomerId: (id: unknown) => id is string = isObjectIdHex;

/** Customers in MongoDB: a versioned repository over the `customers` collection (see `VersionedRepository`). */
export class CustomersRepository extends VersionedRepository {}
