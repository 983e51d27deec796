import type { Doc, MigrationRegistry } from '@zdm/migrations-core';
import { AsyncLocalStorage } from 'node:async_hooks';
import { Schema, Types, type Connection, type Model, type SchemaDefinition, type mongo } from 'mongoose';
import { createDocumentWriter, WriteConflictError, type DocumentWriter } from './document.writer';
import { retryWhileLocked } from './mongo-driver.util';
import { createUpcaster, type UpcastEvent } from './schema-version.upcaster';
import { versionedPlugin } from './versioned.plugin';

/** A document as a {@link VersionedRepository} hands it out: upcast, bookkeeping split from content. */
export interface StoredDocument {
  /** The `_id` as 24 hex characters. */
  id: string;
  /** Version stamped at rest (`_v`, 1 when absent), before any upcast. */
  storedVersion: number;
  /** Revision counter (`_rev`, null when absent); every application write bumps it. */
  rev: number | null;
  /** Content upcast to the newest version this build reads, without `_id`, `_v` and `_rev`. */
  doc: Doc;
}

/** One page of documents in `_id` order. */
export interface DocumentPage {
  items: StoredDocument[];
  /** Cursor for the next page (the last `_id`), or null when this page is the last. */
  next: string | null;
}

/** What an update sets and removes. Computed from the current document; may run more than once. */
export interface DocumentChange {
  set: Doc;
  unset?: readonly string[];
}

/** Per-call options of an update or a delete. */
export interface DocumentWriteOptions {
  /**
   * Version to stamp. Inserts default to the current write version. Updates default to the version
   * the document is stored at: a partial change (say, a status) must not relabel an older document
   * as the newer shape without that shape's fields. Pass the write version when the change sets the
   * whole shape of that version.
   */
  version?: number;
  /**
   * Epoch ms after which the write must not land, e.g. the HTTP request's deadline: nothing is
   * sent once it has passed (`WriteDeadlineExceededError`), and a command already sent cannot be
   * overtaken by a later writer's acknowledged write (see `DocumentWriter`).
   */
  deadline?: number;
}

/** Options of {@link VersionedRepository}. */
export interface VersionedRepositoryOptions {
  /** The versioned model (its plugin stamps `_v` and bumps `_rev` on every write). */
  model: Model<Doc>;
  /** Upcasts a raw `lean()` document to the newest version this build reads; throws when it cannot. */
  upcast: (raw: Doc) => Doc;
  /** Runs a write with `version` pinned as the version the model stamps (none given: the current one). */
  pin?: <T>(version: number | undefined, work: () => Promise<T>) => Promise<T>;
  /** How updates and deletes are made safe against racing writers on this server. */
  writer: DocumentWriter;
  /** How often an update is retried when someone else wrote the document meanwhile. Default 8. */
  maxRetries?: number;
  /** What one document is, in messages: `customer`, `order`. */
  entity: string;
}

/** Thrown when an update kept losing the race against other writers (answered 409: try again). */
export class DocumentWriteConflictError extends Error {
  constructor(
    readonly entity: string,
    readonly id: string,
    readonly attempts: number,
  ) {
    super(`${entity} ${id} kept changing while it was being updated (${attempts} attempts); try again`);
    this.name = 'DocumentWriteConflictError';
  }
}

const HEX_ID = /^[0-9a-f]{24}$/i;

/** Whether `id` is a document id as the repositories hand them out: 24 hexadecimal characters (an ObjectId). */
export function isObjectIdHex(id: unknown): id is string {
  return typeof id === 'string' && HEX_ID.test(id);
}

const BOOKKEEPING = ['_id', '_v', '_rev'] as const;

/** The version a raw document is stored at (`_v`; 1 when absent). */
function storedVersionOf(raw: Doc): number {
  return typeof raw['_v'] === 'number' ? raw['_v'] : 1;
}

/**
 * Versioned documents of one collection. Reads are `lean()` and upcast in memory; updates and
 * deletes go through the {@link DocumentWriter}, so two concurrent updates never lose one another's
 * change, a migration runner's write in between is re-read rather than overwritten with stale
 * values, and a write never lands after its deadline behind a later acknowledged one.
 */
export class VersionedRepository {
  protected readonly model: Model<Doc>;
  private readonly maxRetries: number;

  constructor(private readonly options: VersionedRepositoryOptions) {
    this.model = options.model;
    this.maxRetries = options.maxRetries ?? 8;
  }

  /** Inserts a document with these fields, stamped `version` (default: the current write version). */
  async insert(fields: Doc, version?: number): Promise<StoredDocument> {
    const [created] = await retryWhileLocked(() => this.pin(version, () => this.model.insertMany([fields])));
    return this.toStored(created.toObject() as Doc);
  }

  async findById(id: string): Promise<StoredDocument | null> {
    if (!isObjectIdHex(id)) return null;
    const raw = await this.findRaw(id);
    return raw ? this.toStored(raw) : null;
  }

  /** Up to `limit` documents matching `filter` with an `_id` after `after`, in `_id` order. */
  async page(limit: number, after?: string, filter: Doc = {}): Promise<DocumentPage> {
    const query = after ? { ...filter, _id: { $gt: new Types.ObjectId(after) } } : filter;
    const raws = await this.model.find(query).sort({ _id: 1 }).limit(limit + 1).lean<Doc[]>().exec();
    const items = raws.slice(0, limit).map((raw) => this.toStored(raw));
    return { items, next: raws.length > limit ? items[items.length - 1].id : null };
  }

  /**
   * Applies `change(current)` only if nobody else wrote the document since it was read, reading and
   * recomputing otherwise. `change` may answer null to write nothing (the document as read no
   * longer calls for the change); the document is then resolved as it is. Resolves null when the
   * document does not exist (any more).
   */
  async update(id: string, change: (current: StoredDocument) => DocumentChange | null | Promise<DocumentChange | null>, options: DocumentWriteOptions = {}): Promise<StoredDocument | null> {
    if (!isObjectIdHex(id)) return null;
    let stamp = options.version;
    try {
      const result = await this.options.writer.update(
        this.model.collection.collectionName,
        id,
        {
          read: () => this.findRaw(id),
          decide: async (raw) => {
            if (options.version === undefined) stamp = storedVersionOf(raw);
            const decided = await change(this.toStored(raw));
            if (!decided) return null;
            const { set, unset = [] } = decided;
            const update: Doc = { $set: set };
            if (unset.length) update['$unset'] = Object.fromEntries(unset.map((f) => [f, '']));
            return update;
          },
          write: (filter, update) => this.pin(stamp, () => this.model.findOneAndUpdate(filter, update, { returnDocument: 'after' }).lean<Doc>().exec()),
        },
        { deadline: options.deadline, maxAttempts: this.maxRetries },
      );
      if (!result) return null;
      return this.toStored('written' in result ? result.written : result.unchanged);
    } catch (err) {
      if (err instanceof WriteConflictError) throw new DocumentWriteConflictError(this.options.entity, id, err.attempts);
      throw err;
    }
  }

  /** Deletes the document; false when there was none. */
  async remove(id: string, options: Pick<DocumentWriteOptions, 'deadline'> = {}): Promise<boolean> {
    if (!isObjectIdHex(id)) return false;
    const _id = new Types.ObjectId(id);
    const deleted = await this.options.writer.remove(this.model.collection.collectionName, id, _id, async (filter) => (await this.model.deleteOne(filter).exec()).deletedCount, options);
    return deleted === 1;
  }

  private findRaw(id: string): Promise<Doc | null> {
    return this.model.findById(new Types.ObjectId(id)).lean<Doc>().exec();
  }

  private pin<T>(version: number | undefined, work: () => Promise<T>): Promise<T> {
    return this.options.pin ? this.options.pin(version, work) : work();
  }

  private toStored(raw: Doc): StoredDocument {
    const upcast = this.options.upcast(raw);
    const doc: Doc = { ...upcast };
    for (const key of BOOKKEEPING) delete doc[key];
    return {
      id: String(raw['_id']),
      storedVersion: storedVersionOf(raw),
      rev: typeof raw['_rev'] === 'number' ? raw['_rev'] : null,
      doc,
    };
  }
}

/** What a build reads and writes of one collection (the repository factories of the services take these). */
export interface ModelVersionOptions {
  /** The migrations this build knows; reads upcast along their `up` chain. */
  registry: MigrationRegistry;
  /** Lowest document version this build reads. */
  readMin: number;
  /** Highest document version this build reads (and the one reads are upcast to). */
  readMax: number;
  /** The version writes stamp now (follows the write-new flags); a write may pin its own instead. */
  writeVersion: () => number;
  /** Called for every document upcast in memory on read (e.g. the lazy-upcast metric). */
  onUpcast?: (event: UpcastEvent) => void;
  /** Whether the server's conditional updates are atomic. Default: asked at the first update (MongoDB yes, FerretDB 1.x no). */
  atomicUpdates?: boolean;
}

/** Options of {@link versionedModel}: the collection, its fields, and what this build reads and writes. */
export interface VersionedModelOptions extends ModelVersionOptions {
  /** The collection, also the target name of its migrations. */
  collection: string;
  /** The mongoose model name (one per connection). */
  modelName: string;
  /** Every field any version this build reads may hold; others are refused on write (`strict: 'throw'`). */
  fields: SchemaDefinition;
  /** Indexes to declare on the model, e.g. `[{ customerId: 1, _id: 1 }]`. */
  indexes?: Record<string, 1 | -1>[];
}

/**
 * The model of `options.collection` on `connection` with the versioned plugin (stamps `_v`, bumps
 * `_rev`, refuses versions this build does not know), and the {@link VersionedRepositoryOptions}
 * that read and write through the same rules: a write pins the version it shaped its document for,
 * so a flag flipping mid-request cannot relabel it, and updates go through the migration runner's
 * write seam (claims in `zdm_claims` where the server needs them), chosen at the first write.
 */
export function versionedModel(connection: Connection, options: VersionedModelOptions): Omit<VersionedRepositoryOptions, 'entity' | 'maxRetries'> {
  const pinned = new AsyncLocalStorage<number>();
  const versioned = { ...options, writeVersion: () => pinned.getStore() ?? options.writeVersion() };
  const schema = new Schema<Doc>(options.fields, { collection: options.collection, timestamps: true, versionKey: false, strict: 'throw' });
  for (const index of options.indexes ?? []) schema.index(index);
  schema.plugin(versionedPlugin, versioned);
  const model = (connection.models[options.modelName] ?? connection.model<Doc>(options.modelName, schema)) as Model<Doc>;
  const upcaster = createUpcaster(versioned);
  return {
    model,
    upcast: (raw) => upcaster.upcast(raw).doc,
    pin: (version, work) => (version === undefined ? work() : pinned.run(version, work)),
    writer: createDocumentWriter(() => connection.db as mongo.Db, { atomicUpdates: options.atomicUpdates }),
  };
}
