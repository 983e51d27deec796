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
import { mongo } from 'mongoose';
import { DocumentClaims } from './document.claims';
import { DocumentDiff, diffDocuments, isUnsafeFieldName, matchValue, sameValue } from './document.diff';
import { AnyId, AnyIdCollection, AnyIdDocument, isTransientLock, mapConcurrently } from './mongo-driver.util';
import { afterIdFilter, decodeId, encodeId } from './mongo-id.codec';
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
  /** Most update statements per command; with claims, also the claim group's size once another writer is met. */
  maxOpsPerCommand: number;
  /**
   * Resolves the claims to take before each write where the server's updates are not atomic
   * (FerretDB 1.x), else null. With claims, pages also come from one long `_id`-ordered cursor
   * and documents are read and written by `_id` alone: FerretDB hands only a bare `{_id}` filter
   * to its storage, and reads the whole table for any other filter.
   */
  claims: () => Promise<DocumentClaims | null>;
}

/**
 * Single-document lookups by `_id` a target keeps in flight at once where it cannot use `$in`
 * (FerretDB). Reads there run side by side; bench/README.md ("Figures behind defaults") has the
 * timings this number was chosen from.
 */
const LOOKUPS_IN_FLIGHT = 8;

/** A stored document as the runner sees it: version from `_v`, content without `_v`/`_rev`. */
export function toTargetItem(raw: Doc): TargetItem {
  const { _v, _rev, ...doc } = raw;
  const item: TargetItem = { id: encodeId(raw['_id']), version: _v === undefined ? 1 : isVersion(_v) ? _v : 0, doc, cas: { raw } satisfies MongoCas };
  if (_v !== undefined && !isVersion(_v)) {
    item.malformed = `_v is ${JSON.stringify(_v)}, not a positive integer; fix the document's version, then retry`;
  }
  return item;
}

/** One compare-and-set update the target sends, and how to tell afterwards whether it landed. */
interface PlannedWrite {
  id: string;
  rawId: unknown;
  filter: Doc;
  update: Doc;
  /** Field values the document has once the write landed (`undefined`: absent). */
  after: Doc;
}

/** One statement of a bulk write: a single document's update, or the same update for several. */
interface Statement {
  writes: PlannedWrite[];
  op: mongo.AnyBulkWriteOperation<AnyIdDocument>;
}

/**
 * Writes whose update is identical (a contract's `$unset`, a rollback's, a constant default) go
 * out as one `updateMany` over the `$or` of their compare-and-set filters: still one atomic
 * compare-and-set per document, but one statement. On FerretDB 1.x, which scans the table once
 * per statement, that is the difference between one scan per batch and one per document.
 */
function statements(planned: PlannedWrite[], grouped: boolean): Statement[] {
  const groups = new Map<string, PlannedWrite[]>();
  for (const write of planned) {
    const key = grouped ? mongo.BSON.EJSON.stringify(write.update, { relaxed: false }) : write.id;
    const group = groups.get(key);
    if (group) group.push(write);
    else groups.set(key, [write]);
  }
  return [...groups.values()].map((writes) =>
    writes.length === 1
      ? { writes, op: { updateOne: { filter: writes[0].filter, update: writes[0].update } } }
      : { writes, op: { updateMany: { filter: { $or: writes.map((w) => w.filter) }, update: writes[0].update } } },
  );
}

/** Whether `doc` passes a compare-and-set filter built by {@link MongoCollectionTarget} (`_id` aside). */
export function matchesCasFilter(filter: Doc, doc: Doc): boolean {
  return Object.entries(filter).every(([field, condition]) => {
    if (field === '_id') return true;
    const c = condition as { $exists?: false; $type?: 'null'; $eq?: unknown };
    if (c.$exists === false) return doc[field] === undefined;
    if (c.$type === 'null') return doc[field] === null;
    return sameValue(doc[field], c.$eq);
  });
}

/** Writes that did not land (changed or gone since read) and writes the server rejected. */
interface Applied {
  missed: string[];
  rejected: RejectedWrite[];
}

/** An open `_id`-ordered cursor and the position (last `_id` handed out) it stands at. */
interface OpenStream {
  position: string | null;
  cursor: mongo.FindCursor<AnyIdDocument>;
}

/** The fields whose stored values a compare-and-set filter checks besides `_id`, `_v` and `_rev`. */
function guardedFields(def: MigrationDefinition, diff: DocumentDiff): string[] {
  const names = [...Object.keys(diff.set), ...diff.unset, ...(def.removedFields ?? []), ...(def.addedFields ?? [])];
  return [...new Set(names)].filter((k) => k !== '_id' && k !== '_v' && k !== '_rev' && !isUnsafeFieldName(k));
}

/**
 * One job's walk over a collection: `_id`-ordered pages after a cursor, compare-and-set writes as
 * unordered bulk updates, and re-checks of the writes that did not land.
 */
export class MongoCollectionTarget implements JobTarget {
  private stream: OpenStream | null = null;
  private claimsCleared = false;
  /** Whether this run has met another writer; from then on claims go `maxOpsPerCommand` at a time (see applyClaimed). */
  private contended = false;

  constructor(private readonly options: CollectionTargetOptions) {}

  countRemaining(): Promise<number> {
    return this.options.collection.countDocuments(this.options.filter);
  }

  async readBatch(cursor: string | null, limit: number): Promise<TargetBatch> {
    const raws = (await this.options.claims()) ? await this.readStreamed(cursor, limit) : await this.options.collection.find(this.queryAfter(cursor), { sort: { _id: 1 }, limit, batchSize: limit }).toArray();
    const items = await this.toItems(raws);
    return { items, cursor: raws.length ? encodeId(raws[raws.length - 1]['_id']) : cursor, done: raws.length < limit };
  }

  async reread(ids: string[]): Promise<TargetItem[]> {
    return this.toItems(await this.findByIds(ids.map(decodeId)));
  }

  private queryAfter(cursor: string | null): Doc {
    const { filter } = this.options;
    const after = cursor === null ? null : afterIdFilter(decodeId(cursor));
    return !after ? filter : Object.keys(filter).length ? { $and: [filter, after] } : after;
  }

  /**
   * The next `limit` documents of one cursor kept open across pages (opened again when the
   * runner asks for another position, e.g. after a restart). FerretDB sorts the whole result once
   * per query, so one query per walk instead of one per page keeps the walk linear.
   */
  private async readStreamed(cursor: string | null, limit: number): Promise<AnyIdDocument[]> {
    if (this.stream?.position !== cursor) {
      await this.stream?.cursor.close().catch(() => undefined);
      this.stream = { position: cursor, cursor: this.options.collection.find(this.queryAfter(cursor), { sort: { _id: 1 }, batchSize: Math.max(limit, 500) }) };
    }
    const stream = this.stream;
    const raws: AnyIdDocument[] = [];
    while (raws.length < limit) {
      const raw = await stream.cursor.next();
      if (!raw) break;
      raws.push(raw);
    }
    if (raws.length < limit) {
      await stream.cursor.close().catch(() => undefined);
      this.stream = null;
    } else stream.position = encodeId(raws[raws.length - 1]['_id']);
    return raws;
  }

  /**
   * The documents with these `_id`s that exist: one `$in` query, or (with claims) one lookup each,
   * {@link LOOKUPS_IN_FLIGHT} at a time.
   */
  private async findByIds(rawIds: unknown[]): Promise<AnyIdDocument[]> {
    if (!rawIds.length) return [];
    const { collection } = this.options;
    if (!(await this.options.claims())) return collection.find({ _id: { $in: rawIds as AnyId[] } }).toArray();
    const found: (AnyIdDocument | null)[] = await mapConcurrently(rawIds, LOOKUPS_IN_FLIGHT, (_id) => collection.findOne({ _id: _id as AnyId }));
    return found.filter((raw) => raw !== null);
  }

  async writeBatch(changes: ItemChange[], fence: () => void = () => undefined): Promise<WriteOutcome> {
    const { def, job } = this.options;
    const rejected: RejectedWrite[] = [];
    const planned: PlannedWrite[] = [];
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
    const claims = await this.options.claims();
    const applied = claims ? await this.applyClaimed(claims, planned, fence) : await this.applyEach(planned, fence);
    return { conflicts: applied.missed, rejected: [...rejected, ...applied.rejected] };
  }

  /** The compare-and-set update for one change, or null when the document is already as wanted. */
  private plan(change: ItemChange, diff: DocumentDiff): PlannedWrite | null {
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

  /**
   * Sends the writes in commands of at most `maxOpsPerCommand` statements, calling `fence` before
   * each; returns the ids whose write did not land, and those the server rejected (a statement the
   * server rejects is retried document by document, so each rejected document gets the server's reason).
   */
  private async apply(planned: PlannedWrite[], grouped = true, fence: () => void = () => undefined): Promise<Applied> {
    const missed: string[] = [];
    const rejected: RejectedWrite[] = [];
    const all = statements(planned, grouped);
    for (let i = 0; i < all.length; i += this.options.maxOpsPerCommand) {
      const chunk = all.slice(i, i + this.options.maxOpsPerCommand);
      fence();
      const { matched, failed } = await this.bulk(chunk.map((st) => st.op));
      for (const [index, message] of failed) {
        const { writes } = chunk[index];
        if (writes.length > 1) {
          const alone = await this.apply(writes, false, fence);
          missed.push(...alone.missed);
          rejected.push(...alone.rejected);
          continue;
        }
        rejected.push({ id: writes[0].id, reason: `the server rejected the write: ${message}` });
      }
      // Bulk writes report only how many documents matched, so look at the ones that may not have.
      const sent = chunk.filter((_, j) => !failed.has(j)).flatMap((st) => st.writes);
      if (failed.size || matched < sent.length) missed.push(...(await this.notLanded(sent)));
    }
    return { missed, rejected };
  }

  /**
   * For servers whose updates are atomic: one compare-and-set `updateOne` per document,
   * `maxOpsPerCommand` in flight, the fence checked before each. Each answer says exactly whether
   * that write matched, so a write that landed is never counted as missed because the application
   * changed the document right after (a grouped bulk write reports only a total).
   */
  private async applyEach(planned: PlannedWrite[], fence: () => void): Promise<Applied> {
    const missed: string[] = [];
    const rejected: RejectedWrite[] = [];
    await mapConcurrently(planned, this.options.maxOpsPerCommand, async (write) => {
      fence();
      try {
        const { matchedCount } = await this.options.collection.updateOne(write.filter, write.update);
        if (matchedCount !== 1) missed.push(write.id);
      } catch (err) {
        if (!(err instanceof mongo.MongoServerError) || err instanceof mongo.MongoNetworkError) throw err;
        rejected.push({ id: write.id, reason: `the server rejected the write: ${err.errmsg ?? err.message}` });
      }
    });
    return { missed, rejected };
  }

  /**
   * For servers without atomic updates: claims a group of documents in one command, reads each
   * again by `_id`, writes (by `_id` alone, `maxOpsPerCommand` statements per command, the fence
   * checked before each) those still exactly as the runner read them, and lets the group's claims
   * go in one command. Returns the ids that were held by another writer, had changed, or are gone.
   *
   * A group is the whole batch until the run meets another writer (a claim found held, or a
   * document changed or gone since it was read), and `maxOpsPerCommand` documents from then on.
   * Whole batches save two commands per `maxOpsPerCommand` documents but hold every claim for
   * the whole batch, which a concurrent claiming writer then meets; bench/README.md ("Figures
   * behind defaults") has the measurements behind the switch.
   */
  private async applyClaimed(claims: DocumentClaims, planned: PlannedWrite[], fence: () => void): Promise<Applied> {
    const missed: string[] = [];
    const rejected: RejectedWrite[] = [];
    const namespace = this.options.collection.collectionName;
    const owner = `runner:${this.options.def.id}:${this.options.job}`;
    // This runner holds the job's lease, so a runner of the same job that left claims behind is fenced out.
    if (!this.claimsCleared) this.claimsCleared = (await claims.releaseAllOf(owner)) >= 0;
    for (let i = 0; i < planned.length; ) {
      const group = planned.slice(i, (i += this.contended ? this.options.maxOpsPerCommand : planned.length));
      fence();
      const { taken, release } = await claims.takeMany(namespace, group.map((w) => w.id), owner);
      try {
        const held = new Set(taken);
        const fresh = new Map((await this.findByIds(group.filter((w) => held.has(w.id)).map((w) => w.rawId))).map((d) => [encodeId(d['_id']), d as Doc]));
        const unchanged = new Set(group.filter((w) => fresh.has(w.id) && matchesCasFilter(w.filter, fresh.get(w.id) as Doc)));
        missed.push(...group.filter((w) => !unchanged.has(w)).map((w) => w.id));
        if (unchanged.size < group.length) this.contended = true;
        const byId = [...unchanged].map((w) => ({ ...w, filter: { _id: w.rawId } }));
        // Writes by `_id` alone are safe only while the claims and the lease hold: apply looks again before each command.
        const applied = await this.apply(byId, false, fence);
        missed.push(...applied.missed);
        rejected.push(...applied.rejected);
      } finally {
        await release();
      }
    }
    return { missed, rejected };
  }

  /**
   * One unordered bulk write. Statements refused with a transient lock error (FerretDB) did not
   * land and are sent again, alone; any other refusal is reported by the statement's index.
   */
  private async bulk(ops: mongo.AnyBulkWriteOperation<AnyIdDocument>[]): Promise<{ matched: number; failed: Map<number, string> }> {
    let matched = 0;
    const failed = new Map<number, string>();
    let pending = ops.map((op, index) => ({ op, index }));
    for (let attempt = 1; pending.length; attempt++) {
      let refused: { index: number; message: string }[] = [];
      try {
        matched += (await this.options.collection.bulkWrite(pending.map((p) => p.op), { ordered: false })).matchedCount;
      } catch (err) {
        if (!(err instanceof mongo.MongoBulkWriteError)) {
          if (attempt < 8 && isTransientLock(err)) continue;
          throw err;
        }
        matched += err.result.matchedCount;
        refused = ([] as mongo.WriteError[]).concat(err.writeErrors).map((e) => ({ index: e.index, message: e.errmsg ?? `code ${e.code}` }));
      }
      const again = attempt < 8 ? refused.filter((r) => isTransientLock(r.message)) : [];
      for (const r of refused) if (!again.includes(r)) failed.set(pending[r.index].index, r.message);
      pending = again.map((r) => pending[r.index]);
      if (pending.length) await new Promise((r) => setTimeout(r, Math.random() * 5 * 2 ** attempt));
    }
    return { matched, failed };
  }

  private async notLanded(writes: PlannedWrite[]): Promise<string[]> {
    if (!writes.length) return [];
    const current = await this.findByIds(writes.map((w) => w.rawId));
    const byId = new Map(current.map((d) => [encodeId(d['_id']), d as Doc]));
    const landed = (w: PlannedWrite) => {
      const doc = byId.get(w.id);
      return !!doc && Object.entries(w.after).every(([k, v]) => (v === undefined ? doc[k] === undefined : sameValue(doc[k], v)));
    };
    return writes.filter((w) => !landed(w)).map((w) => w.id);
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
