import { JobTarget, ItemChange, TargetBatch, TargetItem, WriteOutcome } from '../backfill-runner';
import { DataCounts } from '../gates';
import { createInMemoryControlStore } from '../in-memory-control-store';
import { Doc, MigrationDefinition, targetName } from '../migration.types';
import { JobKind } from '../jobs';
import { MigrationBackend } from '../migrator';
import { ControlStore } from '../store.contract';

/** One stored item. `rev` grows by one on every write, by the runner or by the application. */
export interface StoredItem {
  id: string;
  version: number;
  rev: number;
  doc: Doc;
}

/** One applied write, in the order the collection applied them. */
export interface AppliedWrite {
  id: string;
  by: 'runner' | 'app';
  version: number;
  doc: Doc;
}

/** Hooks that let a spec interleave with a runner; `call` counts from 1 per target. */
export interface TargetHooks {
  /** Runs before each page is read (e.g. to stall a runner, or to write behind its cursor). */
  beforeRead?: (call: number) => void | Promise<void>;
  /** Runs before each compare-and-set write is applied (e.g. to race the runner with an application write). */
  beforeWrite?: (changes: ItemChange[], call: number) => void | Promise<void>;
  /** Runs after a write was applied, before the runner sees the result (e.g. to kill it before its checkpoint). */
  afterWrite?: (changes: ItemChange[], call: number) => void | Promise<void>;
}

/** Options for {@link InMemoryCollection.target}. */
export interface InMemoryTargetOptions extends TargetHooks {
  /** The items the job still has to touch; the walk and the count see only these. Default: every item. */
  pending?: (item: StoredItem) => boolean;
}

const clone = <T>(v: T): T => structuredClone(v);

/**
 * An id-ordered collection in process memory with honest compare-and-set: a runner write applies
 * only if the item's `rev` is still the one the runner read.
 */
export class InMemoryCollection {
  private readonly items = new Map<string, StoredItem>();
  /** Every applied write, oldest first. */
  readonly writes: AppliedWrite[] = [];

  /** @param log optional shared journal; each applied write appends `write <id> v<version>`. */
  constructor(private readonly log?: string[]) {}

  /** A collection of `count` items built by `make(i)`, ids from {@link idOf}. */
  static seed(count: number, make: (i: number) => Doc, idOf: (i: number) => string, log?: string[]): InMemoryCollection {
    const collection = new InMemoryCollection(log);
    for (let i = 0; i < count; i++) collection.insert(idOf(i), make(i));
    return collection;
  }

  insert(id: string, doc: Doc, version = 1): void {
    this.items.set(id, { id, version, rev: 0, doc: clone(doc) });
  }

  get(id: string): StoredItem | undefined {
    const item = this.items.get(id);
    return item && clone(item);
  }

  /** Every item, in id order. */
  all(): StoredItem[] {
    return [...this.items.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).map(clone);
  }

  /** An application write: unconditional, bumps `rev`, so any runner holding the old state conflicts. */
  appWrite(id: string, doc: Doc, version: number): void {
    const current = this.items.get(id);
    this.apply({ id, version, rev: current ? current.rev : -1, doc }, 'app');
  }

  /** A job's view: only the items `pending` selects, walked in id order. */
  target(options: InMemoryTargetOptions = {}): InMemoryTarget {
    return new InMemoryTarget(this, options);
  }

  /** Applies `change` if the stored `rev` still equals `expectedRev`; false on conflict. */
  compareAndSet(change: ItemChange, expectedRev: number): boolean {
    const stored = this.items.get(change.item.id);
    if (!stored || stored.rev !== expectedRev) return false;
    this.apply({ id: stored.id, version: change.version, rev: stored.rev, doc: change.doc }, 'runner');
    return true;
  }

  private apply(next: StoredItem, by: AppliedWrite['by']) {
    this.items.set(next.id, { id: next.id, version: next.version, rev: next.rev + 1, doc: clone(next.doc) });
    this.writes.push({ id: next.id, by, version: next.version, doc: clone(next.doc) });
    this.log?.push(`write ${next.id} v${next.version}`);
  }
}

/** A {@link JobTarget} over an {@link InMemoryCollection}. */
export class InMemoryTarget implements JobTarget {
  /** Every page requested, in order. */
  readonly reads: { cursor: string | null; limit: number; ids: string[] }[] = [];
  private writeCalls = 0;

  constructor(
    private readonly collection: InMemoryCollection,
    private readonly options: InMemoryTargetOptions,
  ) {}

  private pendingItems(): StoredItem[] {
    const pending = this.options.pending ?? (() => true);
    return this.collection.all().filter(pending);
  }

  async countRemaining(): Promise<number> {
    return this.pendingItems().length;
  }

  async readBatch(cursor: string | null, limit: number): Promise<TargetBatch> {
    await this.options.beforeRead?.(this.reads.length + 1);
    const rest = this.pendingItems().filter((i) => cursor === null || i.id > cursor);
    const page = rest.slice(0, limit);
    this.reads.push({ cursor, limit, ids: page.map((i) => i.id) });
    return {
      items: page.map(toTargetItem),
      cursor: page.length ? page[page.length - 1].id : cursor,
      done: rest.length <= limit,
    };
  }

  async writeBatch(changes: ItemChange[], fence?: () => void): Promise<WriteOutcome> {
    const call = ++this.writeCalls;
    await this.options.beforeWrite?.(changes, call);
    // As a store adapter does: the fence is asked right before the write is sent.
    fence?.();
    const conflicts = changes
      .filter((c) => !this.collection.compareAndSet(c, (c.item.cas as { rev: number }).rev))
      .map((c) => c.item.id);
    await this.options.afterWrite?.(changes, call);
    return { conflicts, rejected: [] };
  }

  async reread(ids: string[]): Promise<TargetItem[]> {
    return ids.flatMap((id) => {
      const item = this.collection.get(id);
      return item ? [toTargetItem(item)] : [];
    });
  }
}

function toTargetItem(item: StoredItem): TargetItem {
  return { id: item.id, version: item.version, doc: clone(item.doc), cas: { rev: item.rev } };
}

const hasAny = (doc: Doc, fields: readonly string[] | undefined) => (fields ?? []).some((f) => f in doc);

/** Which items each job walks, the way a store adapter would filter them. */
export function jobFilter(def: MigrationDefinition, job: JobKind): (item: StoredItem) => boolean {
  switch (job) {
    case 'backfill':
      return (i) => i.version < def.to;
    case 'verify':
      return () => true;
    case 'contract':
      return (i) => hasAny(i.doc, def.removedFields);
    case 'down':
    case 'unexpand':
      return (i) => i.version >= def.to;
  }
}

/** Options for {@link InMemoryBackend}. */
export interface InMemoryBackendOptions {
  store?: ControlStore;
  /** Hooks per job, passed to every target the backend hands out for that job. */
  hooks?: Partial<Record<JobKind, TargetHooks>>;
}

/**
 * A {@link MigrationBackend} held in process memory, for specs of the runner, the Migrator and the
 * CLI: one {@link InMemoryCollection} per target name (made on first use), or one given collection
 * behind every target. Each job walks what the real adapters' filters would give it ({@link jobFilter}).
 */
export class InMemoryBackend implements MigrationBackend {
  readonly store: ControlStore;
  /** Every target handed out, with its job, in order. */
  readonly targets: { job: JobKind; target: InMemoryTarget }[] = [];
  /** No undo log of its own; a spec may set one. */
  clearUndo?: MigrationBackend['clearUndo'];
  private readonly collections = new Map<string, InMemoryCollection>();

  constructor(
    private readonly options: InMemoryBackendOptions & {
      /** The one collection behind every target (default: one per target name). */
      collection?: InMemoryCollection;
    } = {},
  ) {
    this.store = options.store ?? createInMemoryControlStore();
  }

  /** The collection behind target `name`. */
  collection(name: string): InMemoryCollection {
    if (this.options.collection) return this.options.collection;
    let collection = this.collections.get(name);
    if (!collection) this.collections.set(name, (collection = new InMemoryCollection()));
    return collection;
  }

  /** Stores `doc` under `id` in target `name`, at `version` (default 1). */
  insert(name: string, id: string, doc: Doc, version = 1): void {
    this.collection(name).insert(id, doc, version);
  }

  /** Every item of every target, by target name: a comparable snapshot. */
  dump(): Record<string, StoredItem[]> {
    return Object.fromEntries([...this.collections].map(([name, collection]) => [name, collection.all()]));
  }

  async counts(def: MigrationDefinition): Promise<DataCounts> {
    const items = this.collection(targetName(def.target)).all();
    return {
      belowTarget: items.filter((i) => i.version < def.to).length,
      withOldFields: items.filter((i) => hasAny(i.doc, def.removedFields)).length,
      quarantined: await this.store.quarantine.count(def.id),
    };
  }

  target(def: MigrationDefinition, job: JobKind): InMemoryTarget {
    const target = this.collection(targetName(def.target)).target({ ...this.options.hooks?.[job], pending: jobFilter(def, job) });
    this.targets.push({ job, target });
    return target;
  }

  async sample(def: MigrationDefinition, size: number): Promise<{ id: string; doc: Doc }[]> {
    return this.collection(targetName(def.target))
      .all()
      .filter((i) => i.version === def.from)
      .slice(0, size)
      .map((i) => ({ id: i.id, doc: i.doc }));
  }
}

/** An {@link InMemoryBackend} with `collection` behind every target, for Migrator specs. */
export function createInMemoryBackend(collection: InMemoryCollection, options: InMemoryBackendOptions = {}): InMemoryBackend {
  return new InMemoryBackend({ ...options, collection });
}
