import type { Doc } from '@zdm/migrations-core';
import { Types, type Model } from 'mongoose';
import { retryWhileLocked, type DocumentClaims } from '@zdm/migrations-mongo';

/** A customer document as the repository hands it out: upcast, bookkeeping split from content. */
export interface StoredCustomer {
  /** The `_id` as 24 hex characters. */
  id: string;
  /** Version stamped at rest (`_v`, 1 when absent), before any upcast. */
  storedVersion: number;
  /** Revision counter (`_rev`, null when absent); every application write bumps it. */
  rev: number | null;
  /** Content upcast to the newest version this build reads, without `_id`, `_v` and `_rev`. */
  doc: Doc;
}

/** One page of customers in `_id` order. */
export interface CustomerPage {
  items: StoredCustomer[];
  /** Cursor for the next page (the last `_id`), or null when this page is the last. */
  next: string | null;
}

/** What an update sets and removes. Computed from the current document; may run more than once. */
export interface CustomerChange {
  set: Doc;
  unset?: readonly string[];
}

/** Options of {@link CustomersRepository}. */
export interface CustomersRepositoryOptions {
  /** The versioned customers model (its plugin stamps `_v` and bumps `_rev` on every write). */
  model: Model<Doc>;
  /** Upcasts a raw `lean()` document to the newest version this build reads; throws when it cannot. */
  upcast: (raw: Doc) => Doc;
  /** Runs a write with `version` pinned as the version the model stamps (none given: the current one). */
  pin?: <T>(version: number | undefined, work: () => Promise<T>) => Promise<T>;
  /**
   * Per-document claims to hold while updating, for servers without atomic conditional updates
   * (FerretDB 1.x); resolves null where updates are atomic. Default: none needed.
   */
  claims?: () => Promise<DocumentClaims | null>;
  /** How often an update is retried when someone else wrote the document meanwhile. Default 8. */
  maxRetries?: number;
}

/** Thrown when an update kept losing the race against other writers. */
export class CustomerWriteConflictError extends Error {
  constructor(readonly id: string, attempts: number) {
    super(`customer ${id} kept changing while it was being updated (${attempts} attempts); try again`);
    this.name = 'CustomerWriteConflictError';
  }
}

const HEX_ID = /^[0-9a-f]{24}$/i;

/** Whether `id` is a customer id: 24 hexadecimal characters (an ObjectId). */
export function isCustomerId(id: unknown): id is string {
  return typeof id === 'string' && HEX_ID.test(id);
}

const BOOKKEEPING = ['_id', '_v', '_rev'] as const;

/** A short, growing, jittered pause before retrying a lost race, so the winner can finish. */
const backOff = (attempt: number) => new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * 2 ** Math.min(attempt, 6)));

/**
 * Customers in MongoDB. Reads are `lean()` and upcast in memory; updates are compare-and-set on
 * `_rev`, so two concurrent updates never lose one another's change, and a migration runner's
 * write in between is re-read rather than overwritten with stale values.
 */
export class CustomersRepository {
  private readonly model: Model<Doc>;
  private readonly maxRetries: number;

  constructor(private readonly options: CustomersRepositoryOptions) {
    this.model = options.model;
    this.maxRetries = options.maxRetries ?? 8;
  }

  /** Inserts a customer with these fields, stamped `version` (default: the current write version). */
  async insert(fields: Doc, version?: number): Promise<StoredCustomer> {
    const [created] = await retryWhileLocked(() => this.pin(version, () => this.model.insertMany([fields])));
    return this.toStored(created.toObject() as Doc);
  }

  async findById(id: string): Promise<StoredCustomer | null> {
    if (!isCustomerId(id)) return null;
    const raw = await this.model.findById(new Types.ObjectId(id)).lean<Doc>().exec();
    return raw ? this.toStored(raw) : null;
  }

  /** Up to `limit` customers with an `_id` after `after`, in `_id` order. */
  async page(limit: number, after?: string): Promise<CustomerPage> {
    const filter = after ? { _id: { $gt: new Types.ObjectId(after) } } : {};
    const raws = await this.model.find(filter).sort({ _id: 1 }).limit(limit + 1).lean<Doc[]>().exec();
    const items = raws.slice(0, limit).map((raw) => this.toStored(raw));
    return { items, next: raws.length > limit ? items[items.length - 1].id : null };
  }

  /**
   * Applies `change(current)` with compare-and-set on `_rev`, re-reading and recomputing when
   * another writer got there first; stamped `version` (default: the current write version).
   * Resolves null when the customer does not exist (any more).
   */
  async update(id: string, change: (current: StoredCustomer) => CustomerChange | Promise<CustomerChange>, version?: number): Promise<StoredCustomer | null> {
    const claims = (await this.options.claims?.()) ?? null;
    for (let attempt = 1; attempt <= this.maxRetries; attempt++) {
      if (attempt > 1) await backOff(attempt);
      const readFirst = claims ? null : await this.findById(id);
      if (!claims && !readFirst) return null;
      const release = claims ? await claims.take(this.model.collection.collectionName, id) : async () => undefined;
      if (!release) continue;
      try {
        // Under a claim nobody else writes the document, so it is read again and written by `_id`
        // alone (the only filter FerretDB hands to its storage); elsewhere `_rev` is compared-and-set.
        const current = claims ? await this.findById(id) : readFirst;
        if (!current) return null;
        const { set, unset = [] } = await change(current);
        const update: Doc = { $set: set };
        if (unset.length) update['$unset'] = Object.fromEntries(unset.map((f) => [f, '']));
        const filter = claims ? { _id: new Types.ObjectId(id) } : { _id: new Types.ObjectId(id), _rev: current.rev ?? { $exists: false } };
        const updated = await retryWhileLocked(() => this.pin(version, () => this.model.findOneAndUpdate(filter, update, { returnDocument: 'after' }).lean<Doc>().exec()));
        if (updated) return this.toStored(updated);
      } finally {
        await release();
      }
    }
    throw new CustomerWriteConflictError(id, this.maxRetries);
  }

  /** Deletes the customer; false when there was none. */
  async remove(id: string): Promise<boolean> {
    if (!isCustomerId(id)) return false;
    const { deletedCount } = await retryWhileLocked(() => this.model.deleteOne({ _id: new Types.ObjectId(id) }).exec());
    return deletedCount === 1;
  }

  private pin<T>(version: number | undefined, work: () => Promise<T>): Promise<T> {
    return this.options.pin ? this.options.pin(version, work) : work();
  }

  private toStored(raw: Doc): StoredCustomer {
    const upcast = this.options.upcast(raw);
    const doc: Doc = { ...upcast };
    for (const key of BOOKKEEPING) delete doc[key];
    return {
      id: String(raw['_id']),
      storedVersion: typeof raw['_v'] === 'number' ? raw['_v'] : 1,
      rev: typeof raw['_rev'] === 'number' ? raw['_rev'] : null,
      doc,
    };
  }
}
