import type { Doc } from '@zdm/migrations-core';
import { mongo } from 'mongoose';

const { BSON } = mongo;

/** Whether two field values are stored identically (same BSON bytes: types, key order and all). */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  return Buffer.compare(BSON.serialize({ v: a }), BSON.serialize({ v: b })) === 0;
}

/** Top-level fields to `$set` and to `$unset` to turn one document into another. */
export interface DocumentDiff {
  set: Doc;
  unset: string[];
}

/** What changes from `before` to `after`, field by field at the top level; `_id` never changes. */
export function diffDocuments(before: Doc, after: Doc): DocumentDiff {
  const set: Doc = {};
  const unset: string[] = [];
  for (const [key, value] of Object.entries(after)) {
    if (key === '_id' || value === undefined) continue;
    if (!(key in before) || !sameValue(before[key], value)) set[key] = value;
  }
  for (const [key, value] of Object.entries(before)) {
    if (key !== '_id' && value !== undefined && after[key] === undefined) unset.push(key);
  }
  return { set, unset };
}

/** A field name `$set`/`$unset` would read as a path or an operator, so it cannot be written by name. */
export function isUnsafeFieldName(key: string): boolean {
  return key.includes('.') || key.startsWith('$') || key === '';
}

/** A filter that matches `value` exactly as stored, or the field's absence when it is undefined. */
export function matchValue(value: unknown): unknown {
  if (value === undefined) return { $exists: false };
  if (value === null) return { $type: 'null' };
  return { $eq: value };
}
