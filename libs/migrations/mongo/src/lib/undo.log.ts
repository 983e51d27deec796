import type { Doc, MigrationDefinition } from '@zdm/migrations-core';
import { mongo } from 'mongoose';
import { DocumentDiff } from './document.diff';
import { encodeId } from './mongo-id.codec';
import { AnyIdCollection, anyIdCollection, once } from './mongo-driver.util';

/** What rollback before contract needs to put one document back exactly as it was before `up`. */
export interface UndoEntry {
  /** The document had no `_v` before the backfill wrote it. */
  versionAbsent: boolean;
  /** Fields `up` added; rollback removes them. */
  added: string[];
  /** Fields `up` changed: name, value before, value `up` wrote. Restored only if still as `up` left them. */
  changed: [string, unknown, unknown][];
  /** Fields `up` removed, with their value before. Restored only if still absent. */
  removed: [string, unknown][];
}

/** One backfilled document as the undo log records it. */
export interface UndoInput {
  /** The raw `_id`. */
  id: unknown;
  /** Stored `_v` before the write (undefined when absent). */
  version: unknown;
  /** The document before the write, without `_v`/`_rev`. */
  before: Doc;
  /** What the write sets and unsets. */
  diff: DocumentDiff;
}

/** A changed field as stored: name, value before, value `up` wrote. */
interface StoredChange {
  f: string;
  b: unknown;
  w: unknown;
}

/** A removed field as stored: name, value before. */
interface StoredRemoval {
  f: string;
  b: unknown;
}

/**
 * Per item in a record; `a` is left out when the added fields are exactly the migration's
 * `addedFields`. Changes and removals are documents, not `[name, value]` tuples: FerretDB 1.x
 * refuses arrays nested in arrays.
 */
interface StoredItem {
  i: unknown;
  n?: true;
  a?: string[];
  c?: StoredChange[];
  r?: StoredRemoval[];
}

const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x) => b.includes(x));

/**
 * A compact log of what the backfill changed, one insert per batch (not per document), so that
 * rollback before contract restores documents exactly, `_v` absence included. Records are kept in
 * `zdm_undo`, keyed by migration, with a multikey index on the ids.
 */
export class UndoLog {
  private readonly collection: AnyIdCollection;
  private readonly ready: () => Promise<void>;

  constructor(db: mongo.Db, name = 'zdm_undo') {
    this.collection = anyIdCollection(db, name);
    this.ready = once(async () => {
      await this.collection.createIndex({ m: 1, 'items.i': 1 }, { name: 'zdm_undo_by_id' });
    });
  }

  /** Records one batch of backfill writes before they are applied. */
  async record(def: MigrationDefinition, inputs: UndoInput[]): Promise<void> {
    if (!inputs.length) return;
    const defaultAdded = def.addedFields ?? [];
    const items = inputs.map(({ id, version, before, diff }): StoredItem => {
      const item: StoredItem = { i: id };
      if (version === undefined) item.n = true;
      const added = Object.keys(diff.set).filter((k) => !(k in before));
      if (!sameSet(added, defaultAdded)) item.a = added;
      const changed = Object.keys(diff.set)
        .filter((k) => k in before)
        .map((f): StoredChange => ({ f, b: before[f], w: diff.set[f] }));
      if (changed.length) item.c = changed;
      if (diff.unset.length) item.r = diff.unset.map((f): StoredRemoval => ({ f, b: before[f] }));
      return item;
    });
    await this.ready();
    await this.collection.insertOne({ m: def.id, at: new Date(), items });
  }

  /**
   * What the log knows about these documents, by encoded id. When a document was backfilled more
   * than once, the earliest record tells how it was before the migration; added fields accumulate.
   */
  async lookup(def: MigrationDefinition, ids: unknown[]): Promise<Map<string, UndoEntry>> {
    const found = new Map<string, UndoEntry>();
    if (!ids.length) return found;
    const wanted = new Set(ids.map(encodeId));
    const records = await this.collection.find({ m: def.id, 'items.i': { $in: ids } }).sort({ _id: 1 }).toArray();
    for (const record of records) {
      for (const item of record['items'] as StoredItem[]) {
        const key = encodeId(item.i);
        if (!wanted.has(key)) continue;
        const added = item.a ?? [...(def.addedFields ?? [])];
        const earlier = found.get(key);
        if (earlier) earlier.added = [...new Set([...earlier.added, ...added])];
        else found.set(key, { versionAbsent: !!item.n, added, changed: (item.c ?? []).map((c) => [c.f, c.b, c.w]), removed: (item.r ?? []).map((r) => [r.f, r.b]) });
      }
    }
    return found;
  }

  /** Forgets a migration's records (once it is complete or rolled back). Returns how many were dropped. */
  async clear(migrationId: string): Promise<number> {
    const { deletedCount } = await this.collection.deleteMany({ m: migrationId });
    return deletedCount;
  }
}
