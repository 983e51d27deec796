import type { Doc, MigrationDefinition, UndoRecord } from '@zdm/migrations-core';
import { mongo } from 'mongoose';
import { DocumentDiff } from './document.diff';
import { encodeId } from './mongo-id.codec';
import { AnyIdCollection, anyIdCollection, once } from './mongo-driver.util';

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

/**
 * One document in a stored record. `added` is left out when the added fields are exactly the
 * migration's `addedFields`, `changed` and `removed` when empty, `versionAbsent` when false.
 * Changes and removals are documents, not `[name, value]` tuples: FerretDB 1.x refuses arrays
 * nested in arrays.
 */
interface StoredItem {
  /** The raw `_id`. */
  id: unknown;
  versionAbsent?: true;
  added?: string[];
  changed?: UndoRecord['changed'];
  removed?: UndoRecord['removed'];
}

const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x) => b.includes(x));

/**
 * A log of what the backfill changed, one insert per batch (not per document), so that rollback
 * before contract restores documents exactly, `_v` absence included. Records are kept in
 * `zdm_undo` as `{migrationId, at, items: StoredItem[]}`, with a multikey index on
 * `migrationId` + `items.id`.
 */
export class UndoLog {
  private readonly collection: AnyIdCollection;
  private readonly ready: () => Promise<void>;

  constructor(db: mongo.Db, name = 'zdm_undo') {
    this.collection = anyIdCollection(db, name);
    this.ready = once(async () => {
      await this.collection.createIndex({ migrationId: 1, 'items.id': 1 }, { name: 'zdm_undo_by_id' });
    });
  }

  /** Records one batch of backfill writes before they are applied. */
  async record(def: MigrationDefinition, inputs: UndoInput[]): Promise<void> {
    if (!inputs.length) return;
    const defaultAdded = def.addedFields ?? [];
    const items = inputs.map(({ id, version, before, diff }): StoredItem => {
      const item: StoredItem = { id };
      if (version === undefined) item.versionAbsent = true;
      const added = Object.keys(diff.set).filter((k) => !(k in before));
      if (!sameSet(added, defaultAdded)) item.added = added;
      const changed = Object.keys(diff.set)
        .filter((k) => k in before)
        .map((field) => ({ field, before: before[field], written: diff.set[field] }));
      if (changed.length) item.changed = changed;
      if (diff.unset.length) item.removed = diff.unset.map((field) => ({ field, before: before[field] }));
      return item;
    });
    await this.ready();
    await this.collection.insertOne({ migrationId: def.id, at: new Date(), items });
  }

  /**
   * What the log knows about these documents, by encoded id. When a document was backfilled more
   * than once, the earliest record tells how it was before the migration; added fields accumulate.
   */
  async lookup(def: MigrationDefinition, ids: unknown[]): Promise<Map<string, UndoRecord>> {
    const found = new Map<string, UndoRecord>();
    if (!ids.length) return found;
    const wanted = new Set(ids.map(encodeId));
    const records = await this.collection.find({ migrationId: def.id, 'items.id': { $in: ids } }).sort({ _id: 1 }).toArray();
    for (const record of records) {
      for (const item of record['items'] as StoredItem[]) {
        const key = encodeId(item.id);
        if (!wanted.has(key)) continue;
        const added = item.added ?? [...(def.addedFields ?? [])];
        const earlier = found.get(key);
        if (earlier) earlier.added = [...new Set([...earlier.added, ...added])];
        else found.set(key, { versionAbsent: !!item.versionAbsent, added, changed: item.changed ?? [], removed: item.removed ?? [] });
      }
    }
    return found;
  }

  /** Forgets a migration's records (once it is complete or rolled back). Returns how many were dropped. */
  async clear(migrationId: string): Promise<number> {
    const { deletedCount } = await this.collection.deleteMany({ migrationId });
    return deletedCount;
  }
}
