import type {
  JobTarget,
  Doc,
  ItemChange,
  JobKind,
  MigrationDefinition,
  RejectedWrite,
  TargetBatch,
  TargetItem,
  WriteOutcome,
} from '@zdm/migrations-core';
import { BatchWriter, ConditionalWrite } from './document-batch.writer';
import { DocumentDiff, diffDocuments, isUnsafeFieldName, matchValue } from './document.diff';
import { DocumentWriter } from './document.writer';
import { AnyIdCollection, AnyIdDocument, once } from './mongo-driver.util';
import { decodeId, encodeId } from './mongo-id.codec';
import { isVersion } from './schema-version.upcaster';
import { UndoInput, UndoLog } from './undo.log';

/** What a {@link TargetItem} of this adapter carries for compare-and-set. */
export interface MongoCas {
  /** The document exactly as read, `_v` and `_rev` included. */
  raw: Doc;
}

/** Everything one job's target needs. */
export interface CollectionTargetOptions {
  collection: AnyIdCollection;
  def: MigrationDefinition;
  job: JobKind;
  /** The documents this job still has to touch. */
  filter: Doc;
  /** Backfill writes undo records to it; rollback jobs read them. Null: no undo log. */
  undo: UndoLog | null;
  /** Most update statements per command, or single writes in flight. */
  maxOpsPerCommand: number;
  /** The database's write seam: it decides how pages are read and writes land on this server. */
  writer: DocumentWriter;
}

/** A stored document as the runner sees it: version from `_v`, content without `_v`/`_rev`. */
export function toTargetItem(raw: Doc): TargetItem {
  const { _v, _rev, ...doc } = raw;
  const item: TargetItem = { id: encodeId(raw['_id']), version: _v === undefined ? 1 : isVersion(_v) ? _v : 0, doc, cas: { raw } satisfies MongoCas };
  if (_v !== undefined && !isVersion(_v)) {
    item.malformed = `_v is ${JSON.stringify(_v)}, not a positive integer; fix the document's version, then retry`;
  }
  return item;
}

/** The fields whose stored values a compare-and-set filter checks besides `_id`, `_v` and `_rev`. */
function guardedFields(def: MigrationDefinition, diff: DocumentDiff): string[] {
  const names = [...Object.keys(diff.set), ...diff.unset, ...(def.removedFields ?? []), ...(def.addedFields ?? [])];
  return [...new Set(names)].filter((k) => k !== '_id' && k !== '_v' && k !== '_rev' && !isUnsafeFieldName(k));
}

/**
 * One job's walk over a collection (backfill, verify, contract, and the rollback jobs): `_id`-ordered
 * pages after a cursor, and compare-and-set writes planned from what was read. How pages are read
 * and writes land on this server is the {@link DocumentWriter}'s business.
 */
export class MongoCollectionTarget implements JobTarget {
  /** This walk's reads and writes, taken from the write seam at first use. */
  private readonly batches: () => Promise<BatchWriter>;

  constructor(private readonly options: CollectionTargetOptions) {
    const { writer, collection, def, job, maxOpsPerCommand } = options;
    this.batches = once(() => writer.batches(collection, { owner: `runner:${def.id}:${job}`, maxOpsPerCommand }));
  }

  countRemaining(): Promise<number> {
    return this.options.collection.countDocuments(this.options.filter);
  }

  async readBatch(cursor: string | null, limit: number): Promise<TargetBatch> {
    const raws = await (await this.batches()).readPage(this.options.filter, cursor, limit);
    const items = await this.toItems(raws);
    return { items, cursor: raws.length ? encodeId(raws[raws.length - 1]['_id']) : cursor, done: raws.length < limit };
  }

  async reread(ids: string[]): Promise<TargetItem[]> {
    return this.toItems(await (await this.batches()).readByIds(ids.map(decodeId)));
  }

  async writeBatch(changes: ItemChange[], fence: () => void = () => undefined): Promise<WriteOutcome> {
    const { def, job } = this.options;
    const rejected: RejectedWrite[] = [];
    const planned: ConditionalWrite[] = [];
    const undo: UndoInput[] = [];
    for (const change of changes) {
      const { raw } = change.item.cas as MongoCas;
      const diff = diffDocuments(change.item.doc, change.doc);
      const unsafe = [...Object.keys(diff.set), ...diff.unset].find(isUnsafeFieldName);
      if (unsafe !== undefined) {
        rejected.push({ id: change.item.id, reason: `field name ${JSON.stringify(unsafe)} cannot be written with $set/$unset (it contains "." or starts with "$")` });
        continue;
      }
      const write = this.plan(change, diff);
      if (!write) continue;
      planned.push(write);
      if (job === 'backfill') undo.push({ id: raw['_id'], version: raw['_v'], before: change.item.doc, diff });
    }
    // The undo record goes first: a runner killed between the two leaves a harmless extra record.
    if (this.options.undo) await this.options.undo.record(def, undo);
    const applied = await (await this.batches()).write(planned, fence);
    return { conflicts: applied.missed, rejected: [...rejected, ...applied.rejected] };
  }

  /** The compare-and-set update for one change, or null when the document is already as wanted. */
  private plan(change: ItemChange, diff: DocumentDiff): ConditionalWrite | null {
    const { raw } = change.item.cas as MongoCas;
    const { undo } = change.item;
    const set: Doc = { ...diff.set };
    const unset = [...diff.unset];
    // Rollback puts `_v` back as it was: absent when the backfill found none.
    const restoreAbsentVersion = change.version === 1 && !!undo?.versionAbsent && this.options.job !== 'backfill';
    if (restoreAbsentVersion) {
      if (raw['_v'] !== undefined) unset.push('_v');
    } else if (change.version !== change.item.version) set['_v'] = change.version;
    if (!Object.keys(set).length && !unset.length) return null;

    const filter: Doc = { _id: raw['_id'], _v: matchValue(raw['_v']), _rev: matchValue(raw['_rev']) };
    for (const field of guardedFields(this.options.def, diff)) filter[field] = matchValue(raw[field]);
    const update: Doc = {};
    if (Object.keys(set).length) update['$set'] = set;
    if (unset.length) update['$unset'] = Object.fromEntries(unset.map((k) => [k, '']));
    const after: Doc = { ...set, ...Object.fromEntries(unset.map((k) => [k, undefined])) };
    return { id: change.item.id, rawId: raw['_id'], filter, update, after };
  }

  private async toItems(raws: AnyIdDocument[]): Promise<TargetItem[]> {
    const items = raws.map((raw) => toTargetItem(raw as Doc));
    const { undo, job, def } = this.options;
    if (undo && (job === 'unexpand' || job === 'down') && items.length) {
      const entries = await undo.lookup(def, raws.map((r) => r['_id']));
      for (const item of items) item.undo = entries.get(item.id);
    }
    return items;
  }
}
