import { Doc, MigrationDefinition, defineMigration } from '@zdm/migrations-core';
import { mongo } from 'mongoose';

/** A customer as stored before the migration (v1). */
export interface CustomerV1 extends Doc {
  firstName: string;
  lastName: string;
}

/** A customer after `up` (v2): old fields kept until contract. */
export interface CustomerV2 extends Doc {
  fullName: string;
}

/**
 * customers firstName + lastName -> fullName (v1 -> v2), on collection `collection`. `up` refuses a
 * customer without string names, so malformed documents end in quarantine.
 */
export function fullNameMigration(collection = 'customers', overrides: Partial<MigrationDefinition> = {}): MigrationDefinition {
  const def = defineMigration<CustomerV1, CustomerV2>({
    id: 'customers.full-name',
    description: 'firstName + lastName -> fullName',
    service: 'customers',
    target: { kind: 'mongo', collection },
    from: 1,
    to: 2,
    up: (doc) => {
      if (typeof doc.firstName !== 'string' || typeof doc.lastName !== 'string') {
        throw new Error(`firstName and lastName must be strings, got ${JSON.stringify(doc.firstName)} and ${JSON.stringify(doc.lastName)}`);
      }
      return { ...doc, fullName: `${doc.firstName} ${doc.lastName}` };
    },
    down: (doc) => {
      const { fullName, ...rest } = doc;
      const space = fullName.indexOf(' ');
      return { ...rest, firstName: fullName.slice(0, space), lastName: fullName.slice(space + 1) };
    },
    verify: (doc) => {
      if (typeof doc.fullName !== 'string' || !doc.fullName.trim()) return 'fullName is empty';
      if (typeof doc['firstName'] === 'string' && doc.fullName !== `${doc['firstName']} ${doc['lastName']}`) return 'fullName does not match the names';
      return true;
    },
    removedFields: ['firstName', 'lastName'],
    addedFields: ['fullName'],
  });
  return { ...(def as unknown as MigrationDefinition), ...overrides };
}

/**
 * The stored v1 customer number `i`. Every tenth one carries extra fields of other types (array,
 * embedded document, date, null) that every job must leave untouched. The rest stay small:
 * FerretDB on SQLite scans the whole table for each single-document update, so size is time.
 */
export function customerDoc(i: number): Doc {
  const doc: Doc = { firstName: `First${i}`, lastName: `Last${i}`, email: `c${i}@example.com` };
  if (i % 10 === 0) Object.assign(doc, { tags: ['a', 'b'], address: { city: `City${i % 7}`, zip: String(10000 + i) }, since: new Date(Date.UTC(2020, 0, 1 + (i % 365))), note: null });
  return doc;
}

/** Inserts `count` v1 customers (no `_v`, no `_rev`, as written before any migration). */
export async function seedCustomers(collection: mongo.Collection<mongo.Document>, count: number, first = 0): Promise<void> {
  for (let i = first; i < first + count; i += 1000) {
    const n = Math.min(1000, first + count - i);
    await collection.insertMany(Array.from({ length: n }, (_, j) => customerDoc(i + j)));
  }
}

/** Every document of the collection in `_id` order, for deep-equal snapshots. */
export function snapshot(collection: mongo.Collection<mongo.Document>): Promise<mongo.Document[]> {
  return collection.find({}).sort({ _id: 1 }).toArray();
}
