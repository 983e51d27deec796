import { customerDoc } from '@zdm/migrations-core/testing';
import { mongo } from 'mongoose';

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
