import type { Doc, RejectedWrite } from '@zdm/migrations-core';
import { mongo } from 'mongoose';
import { DocumentClaims } from './document.claims';
import { sameValue } from './document.diff';
import { AnyId, AnyIdCollection, AnyIdDocument, isTransientLock, mapConcurrently } from './mongo-driver.util';
import { afterIdFilter, decodeId, encodeId } from './mongo-id.codec';

/** One compare-and-set write of a batch. */
export interface ConditionalWrite {
  /** The document's encoded `_id`, as the runner names it. */
  id: string;
  /** The stored `_id`. */
  rawId: unknown;
  /** `_id` and the stored values the write depends on (`matchValue` conditions: `$eq`, `$exists: false`, `$type: 'null'`). */
  filter: Doc;
  update: Doc;
  /** Field values the document has once the write landed (`undefined`: absent). */
  after: Doc;
}

/** How a batch's writes ended: those that did not land (changed or gone since read) and those the server rejected. */
export interface BatchWriteResult {
  missed: string[];
  rejected: RejectedWrite[];
}

/** Options of {@link DocumentWriter.batches}. */
export interface BatchWriterOptions {
  /**
   * The kind of writer, e.g. `runner:<migration>:<job>`. The caller holds that job's fenced lease,
   * so claims an earlier writer of the same kind left behind are freed before its first write.
   */
  owner: string;
  /** Most statements in one command, and most single writes in flight. */
  maxOpsPerCommand: number;
}

/**
 * The reads and writes of one lease holder's walk over a collection, as this server needs them.
 * Reads belong here too: where writes take claims (FerretDB 1.x), documents are re-read by `_id`
 * alone, the only filter that server hands to its storage instead of scanning the table.
 */
export interface BatchWriter {
  /** The next `limit` documents matching `filter` after `cursor` (an encoded `_id`), in `_id` order. */
  readPage(filter: Doc, cursor: string | null, limit: number): Promise<AnyIdDocument[]>;
  /** The documents with these `_id`s that exist. */
  readByIds(rawIds: unknown[]): Promise<AnyIdDocument[]>;
  /**
   * Applies each write only while its document still passes its filter. `fence` is called before
   * every command and throws once the caller's lease is lost, so nothing is sent after that.
   */
  write(writes: ConditionalWrite[], fence: () => void): Promise<BatchWriteResult>;
}

/**
 * Single-document lookups by `_id` kept in flight at once where `$in` scans (FerretDB). Reads there
 * run side by side; bench/README.md ("Figures behind defaults") has the timings behind this number.
 */
const LOOKUPS_IN_FLIGHT = 8;

/** `filter` narrowed to the documents after `cursor` in `_id` order. */
function afterCursor(filter: Doc, cursor: string | null): Doc {
  const after = cursor === null ? null : afterIdFilter(decodeId(cursor));
  return !after ? filter : Object.keys(filter).length ? { $and: [filter, after] } : after;
}

/** Whether `doc` passes a {@link ConditionalWrite}'s filter (`_id` aside). */
export function matchesCasFilter(filter: Doc, doc: Doc): boolean {
  return Object.entries(filter).every(([field, condition]) => {
    if (field === '_id') return true;
    const c = condition as { $exists?: false; $type?: 'null'; $eq?: unknown };
    if (c.$exists === false) return doc[field] === undefined;
    if (c.$type === 'null') return doc[field] === null;
    return sameValue(doc[field], c.$eq);
  });
}

/**
 * For servers whose updates are atomic: one query per page, one `$in` query per re-read, and one
 * compare-and-set `updateOne` per document, `maxOpsPerCommand` in flight, the fence checked before
 * each. Each answer says exactly whether that write matched, so a write that landed is never
 * counted as missed because the application changed the document right after (a grouped bulk
 * write reports only a total).
 */
export class CompareAndSetBatches implements BatchWriter {
  constructor(
    private readonly collection: AnyIdCollection,
    private readonly options: BatchWriterOptions,
  ) {}

  readPage(filter: Doc, cursor: string | null, limit: number): Promise<AnyIdDocument[]> {
    return this.collection.find(afterCursor(filter, cursor), { sort: { _id: 1 }, limit, batchSize: limit }).toArray();
  }

  async readByIds(rawIds: unknown[]): Promise<AnyIdDocument[]> {
    return rawIds.length ? this.collection.find({ _id: { $in: rawIds as AnyId[] } }).toArray() : [];
  }

  async write(writes: ConditionalWrite[], fence: () => void): Promise<BatchWriteResult> {
    const missed: string[] = [];
    const rejected: RejectedWrite[] = [];
    await mapConcurrently(writes, this.options.maxOpsPerCommand, async (write) => {
      fence();
      try {
        const { matchedCount } = await this.collection.updateOne(write.filter, write.update);
        if (matchedCount !== 1) missed.push(write.id);
      } catch (err) {
        if (!(err instanceof mongo.MongoServerError) || err instanceof mongo.MongoNetworkError) throw err;
        rejected.push({ id: write.id, reason: `the server rejected the write: ${err.errmsg ?? err.message}` });
      }
    });
    return { missed, rejected };
  }
}

/** An open `_id`-ordered cursor and the position (last `_id` handed out) it stands at. */
interface OpenStream {
  position: string | null;
  cursor: mongo.FindCursor<AnyIdDocument>;
}

/**
 * For servers without atomic updates (FerretDB 1.x): pages come from one long `_id`-ordered cursor,
 * re-reads are lookups by `_id`, and each group of writes is claimed ({@link DocumentClaims}),
 * re-read, compared with what the runner read, and written by `_id` alone.
 */
export class ClaimingBatches implements BatchWriter {
  private stream: OpenStream | null = null;
  private claimsCleared = false;
  /** Whether this walk has met another writer; from then on claims go `maxOpsPerCommand` at a time (see write). */
  private contended = false;

  constructor(
    private readonly collection: AnyIdCollection,
    private readonly claims: DocumentClaims,
    private readonly options: BatchWriterOptions,
  ) {}

  /**
   * The next `limit` documents of one cursor kept open across pages (opened again when the
   * caller asks for another position, e.g. after a restart). FerretDB sorts the whole result once
   * per query, so one query per walk instead of one per page keeps the walk linear.
   */
  async readPage(filter: Doc, cursor: string | null, limit: number): Promise<AnyIdDocument[]> {
    if (this.stream?.position !== cursor) {
      await this.stream?.cursor.close().catch(() => undefined);
      this.stream = { position: cursor, cursor: this.collection.find(afterCursor(filter, cursor), { sort: { _id: 1 }, batchSize: Math.max(limit, 500) }) };
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

  /** One lookup by `_id` per document, {@link LOOKUPS_IN_FLIGHT} at a time. */
  async readByIds(rawIds: unknown[]): Promise<AnyIdDocument[]> {
    const found = await mapConcurrently(rawIds, LOOKUPS_IN_FLIGHT, (_id) => this.collection.findOne({ _id: _id as AnyId }));
    return found.filter((raw) => raw !== null);
  }

  /**
   * Claims a group of documents in one command, reads each again by `_id`, writes (by `_id`
   * alone, `maxOpsPerCommand` statements per command, the fence checked before each) those still
   * exactly as the runner read them, and lets the group's claims go in one command. Writes held by
   * another writer, changed or gone come back as missed.
   *
   * A group is the whole batch until the walk meets another writer (a claim found held, or a
   * document changed or gone since it was read), and `maxOpsPerCommand` documents from then on.
   * Whole batches save two commands per `maxOpsPerCommand` documents but hold every claim for
   * the whole batch, which a concurrent claiming writer then meets; bench/README.md ("Figures
   * behind defaults") has the measurements behind the switch.
   */
  async write(writes: ConditionalWrite[], fence: () => void): Promise<BatchWriteResult> {
    const missed: string[] = [];
    const rejected: RejectedWrite[] = [];
    const namespace = this.collection.collectionName;
    const { owner, maxOpsPerCommand } = this.options;
    // The caller holds the job's lease, so a writer of the same kind that left claims behind is fenced out.
    if (!this.claimsCleared) this.claimsCleared = (await this.claims.releaseAllOf(owner)) >= 0;
    for (let i = 0; i < writes.length; ) {
      const group = writes.slice(i, (i += this.contended ? maxOpsPerCommand : writes.length));
      fence();
      const { taken, release } = await this.claims.takeMany(namespace, group.map((w) => w.id), owner);
      try {
        const held = new Set(taken);
        const fresh = new Map((await this.readByIds(group.filter((w) => held.has(w.id)).map((w) => w.rawId))).map((d) => [encodeId(d['_id']), d as Doc]));
        const unchanged = group.filter((w) => fresh.has(w.id) && matchesCasFilter(w.filter, fresh.get(w.id) as Doc));
        if (unchanged.length < group.length) this.contended = true;
        const kept = new Set(unchanged);
        missed.push(...group.filter((w) => !kept.has(w)).map((w) => w.id));
        // Writes by `_id` alone are safe only while the claims and the lease hold: the fence is checked before each command.
        const applied = await this.applyById(unchanged, fence);
        missed.push(...applied.missed);
        rejected.push(...applied.rejected);
      } finally {
        await release();
      }
    }
    return { missed, rejected };
  }

  /**
   * Sends the writes by `_id` in commands of at most `maxOpsPerCommand` statements, calling `fence`
   * before each; returns those that did not land, and those the server rejected with its reason.
   */
  private async applyById(writes: ConditionalWrite[], fence: () => void): Promise<BatchWriteResult> {
    const missed: string[] = [];
    const rejected: RejectedWrite[] = [];
    const { maxOpsPerCommand } = this.options;
    for (let i = 0; i < writes.length; i += maxOpsPerCommand) {
      const chunk = writes.slice(i, i + maxOpsPerCommand);
      fence();
      const { matched, failed } = await this.bulk(chunk.map((w) => ({ updateOne: { filter: { _id: w.rawId as AnyId }, update: w.update } })));
      for (const [index, message] of failed) rejected.push({ id: chunk[index].id, reason: `the server rejected the write: ${message}` });
      // Bulk writes report only how many documents matched, so look at the ones that may not have.
      const sent = chunk.filter((_, j) => !failed.has(j));
      if (failed.size || matched < sent.length) missed.push(...(await this.notLanded(sent)));
    }
    return { missed, rejected };
  }

  /**
   * One unordered bulk write. Statements refused with a transient lock error (FerretDB) did not
   * land and are sent again; any other refusal is reported by the statement's index.
   */
  private async bulk(ops: mongo.AnyBulkWriteOperation<AnyIdDocument>[]): Promise<{ matched: number; failed: Map<number, string> }> {
    let matched = 0;
    const failed = new Map<number, string>();
    let pending = ops.map((op, index) => ({ op, index }));
    for (let attempt = 1; pending.length; attempt++) {
      let refused: { index: number; message: string }[] = [];
      try {
        matched += (await this.collection.bulkWrite(pending.map((p) => p.op), { ordered: false })).matchedCount;
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

  /** Of `writes` sent, those whose document does not hold the values it would after the write. */
  private async notLanded(writes: ConditionalWrite[]): Promise<string[]> {
    if (!writes.length) return [];
    const byId = new Map((await this.readByIds(writes.map((w) => w.rawId))).map((d) => [encodeId(d['_id']), d as Doc]));
    const landed = (w: ConditionalWrite) => {
      const doc = byId.get(w.id);
      return !!doc && Object.entries(w.after).every(([k, v]) => (v === undefined ? doc[k] === undefined : sameValue(doc[k], v)));
    };
    return writes.filter((w) => !landed(w)).map((w) => w.id);
  }
}
