import type { Doc } from '@zdm/migrations-core';
import { Types, type Model } from 'mongoose';
import { retryWhileLocked, WriteConflictError, type DocumentWriter } from '@zdm/migrations-mongo';

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

/** Per-call options of an update or a delete. */
export interface CustomerWriteOptions {
  /** Version to stamp (default: the current write version). Updates only. */
  version?: number;
  /**
   * Epoch ms after which the write must not land, e.g. the HTTP request's deadline: nothing is
   * sent once it has passed (`WriteDeadlineExceededError`), and a command already sent cannot be
   * overtaken by a later writer's acknowledged write (see `DocumentWriter`).
   */
  deadline?: number;
}

/** Options of {@link CustomersRepository}. */
export interface CustomersRepositoryOptions {
  /** The versioned customers model (its plugin stamps `_v` and bumps `_rev` on every write). */
  model: Model<Doc>;
  /** Upcasts a raw `lean()` document to the newest version this build reads; throws when it cannot. */
  upcast: (raw: Doc) => Doc;
  /** Runs a write with `version` pinned as the version the model stamps (none given: the current one). */
  pin?: <T>(version: number | undefined, work: () => Promise<T>) => Promise<T>;
  /** How updates and deletes are made safe against racing writers on this server. */
  writer: DocumentWriter;
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

/**
 * Customers in MongoDB. Reads are `lean()` and upcast in memory; updates and deletes go through
 * the {@link DocumentWriter}, so two concurrent updates never lose one another's change, a
 * migration runner's write in between is re-read rather than overwritten with stale values, and a
 * write never lands after its deadline behind a later acknowledged one.
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
    const raw = await this.findRaw(id);
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
   * Applies `change(current)` only if nobody else wrote the customer since it was read, reading and
   * recomputing otherwise. Resolves null when the customer does not exist (any more).
   */
  async update(id: string, change: (current: StoredCustomer) => CustomerChange | Promise<CustomerChange>, options: CustomerWriteOptions = {}): Promise<StoredCustomer | null> {
    if (!isCustomerId(id)) return null;
    try {
      const result = await this.options.writer.update(
        this.model.collection.collectionName,
        id,
        {
          read: () => this.findRaw(id),
          decide: async (raw) => {
            const { set, unset = [] } = await change(this.toStored(raw));
            const update: Doc = { $set: set };
            if (unset.length) update['$unset'] = Object.fromEntries(unset.map((f) => [f, '']));
            return update;
          },
          write: (filter, update) => this.pin(options.version, () => this.model.findOneAndUpdate(filter, update, { returnDocument: 'after' }).lean<Doc>().exec()),
        },
        { deadline: options.deadline, maxAttempts: this.maxRetries },
      );
      if (!result) return null;
      return this.toStored('written' in result ? result.written : result.unchanged);
    } catch (err) {
      if (err instanceof WriteConflictError) throw new CustomerWriteConflictError(id, err.attempts);
      throw err;
    }
  }

  /** Deletes the customer; false when there was none. */
  async remove(id: string, options: Pick<CustomerWriteOptions, 'deadline'> = {}): Promise<boolean> {
    if (!isCustomerId(id)) return false;
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
