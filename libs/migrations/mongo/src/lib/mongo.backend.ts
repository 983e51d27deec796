import {
  ControlStore,
  DataCounts,
  Doc,
  JobKind,
  MigrationBackend,
  MigrationDefinition,
  MigrationDefinitionError,
  MigrationRegistry,
  Step,
  TargetItem,
  targetKindProblems,
  targetOf,
  unexpandStep,
} from '@zdm/migrations-core';
import { mongo } from 'mongoose';
import { sameValue } from './document.diff';
import { MongoCollectionTarget, toTargetItem } from './mongo-collection.target';
import { createMongoControlStore } from './mongo-control.store';
import { DocumentWriter, createDocumentWriter } from './document.writer';
import { UndoLog } from './undo.log';
import { anyIdCollection } from './mongo-driver.util';
import { mongoTargetKind } from './mongo.target';

/** Options for {@link createMongoBackend}. */
export interface MongoBackendOptions {
  /** The service's database: `connection.db` of a mongoose connection, or a driver `Db`. */
  db: mongo.Db;
  /** When given, only its migrations are accepted (others fail with the list of known ids). */
  registry?: MigrationRegistry;
  /** Control store; defaults to {@link createMongoControlStore} on the same database. */
  store?: ControlStore;
  /** Prefix of the default control store's collections and of the undo log. Default `zdm_`. */
  prefix?: string;
  /**
   * Keep a compact undo record per backfill batch, so rollback before contract restores documents
   * exactly as they were (`_v` absence included). Default true.
   */
  undoLog?: boolean;
  /**
   * Most update statements sent in one command. Default 40: FerretDB 1.x (SQLite) stops answering
   * when about 100 statements are in flight at once; MongoDB takes far more.
   */
  maxOpsPerCommand?: number;
  /**
   * Whether the server applies an update's filter and write atomically. Default: asked once with
   * `buildInfo` (MongoDB: yes; FerretDB 1.x: no). Where not, every write first takes a
   * per-document claim, so the application must write through a {@link DocumentWriter} as well.
   * Ignored when `writer` is given.
   */
  atomicUpdates?: boolean;
  /** Claims collection where updates are not atomic. Default `<prefix>claims`. Ignored when `writer` is given. */
  claimsCollection?: string;
  /** The database's write seam, when the service already made one. Default: {@link createDocumentWriter} on `db`. */
  writer?: DocumentWriter;
}

/** The mongo adapter: a {@link MigrationBackend} plus its undo log. */
export interface MongoBackend extends MigrationBackend {
  unexpandStep(def: MigrationDefinition): (item: TargetItem) => Step;
  /** Drops the undo records of a migration once nothing can roll it back before contract any more. */
  clearUndo(migrationId: string): Promise<number>;
}

/** Documents whose `_v` is below `version` (absent counts as 1; a `_v` that is not a number counts too). */
export function belowVersionFilter(version: number): Doc {
  return { $or: [{ _v: { $not: { $type: 'number' } } }, { _v: { $lt: version } }] };
}

/** Documents that still carry at least one of `fields`. */
export function withAnyFieldFilter(fields: readonly string[]): Doc {
  return fields.length ? { $or: fields.map((f) => ({ [f]: { $exists: true } })) } : { _id: { $exists: false } };
}

/**
 * The documents each job still has to touch. Rollback before contract also visits older documents
 * that still carry an added field (a v1 writer updated a backfilled document), to take it off.
 */
export function jobFilter(def: MigrationDefinition, job: JobKind): Doc {
  const atTarget = { _v: { $gte: def.to } };
  switch (job) {
    case 'backfill':
      return belowVersionFilter(def.to);
    case 'verify':
      return {};
    case 'contract':
      return withAnyFieldFilter(def.removedFields ?? []);
    case 'down':
      return atTarget;
    case 'unexpand':
      return def.addedFields?.length ? { $or: [atTarget, ...def.addedFields.map((f) => ({ [f]: { $exists: true } }))] } : atTarget;
  }
}

/**
 * A {@link MigrationBackend} over MongoDB collections (`MongoTarget`), on the native driver.
 * Each job walks `_id`-ordered pages; writes are compare-and-set updates (on `_id`, `_v`, `_rev`
 * and the fields involved) sent through the database's {@link DocumentWriter}, which makes them
 * atomic on this server (a conditional update on MongoDB, per-document claims on FerretDB 1.x).
 * The runner never bumps `_rev`: only application writes do, so an application write between the
 * runner's read and write always makes the runner re-read.
 */
export function createMongoBackend(options: MongoBackendOptions): MongoBackend {
  const { db, registry } = options;
  const prefix = options.prefix ?? 'zdm_';
  const store = options.store ?? createMongoControlStore(db, { prefix });
  const undo = options.undoLog === false ? null : new UndoLog(db, `${prefix}undo`);
  const maxOpsPerCommand = options.maxOpsPerCommand ?? 40;
  const writer = options.writer ?? createDocumentWriter(db, { atomicUpdates: options.atomicUpdates, collection: options.claimsCollection ?? `${prefix}claims` });
  if (!Number.isInteger(maxOpsPerCommand) || maxOpsPerCommand < 1) throw new Error(`maxOpsPerCommand must be an integer >= 1, got ${maxOpsPerCommand}`);

  // The mongo targets of the registry are checked now, so a bad one fails at startup.
  const problems = registry ? targetKindProblems(registry.all(), mongoTargetKind) : [];
  if (problems.length) throw new MigrationDefinitionError(problems);

  const collectionOf = (def: MigrationDefinition) => {
    if (registry) registry.get(def.id);
    return anyIdCollection(db, targetOf(def, mongoTargetKind).collection);
  };

  return {
    store,
    async counts(def): Promise<DataCounts> {
      const collection = collectionOf(def);
      const removed = def.removedFields ?? [];
      const [belowTarget, withOldFields, quarantined] = await Promise.all([
        collection.countDocuments(belowVersionFilter(def.to)),
        removed.length ? collection.countDocuments(withAnyFieldFilter(removed)) : 0,
        store.quarantine.count(def.id),
      ]);
      return { belowTarget, withOldFields, quarantined };
    },
    target(def, job) {
      return new MongoCollectionTarget({
        collection: collectionOf(def),
        def,
        job,
        filter: jobFilter(def, job),
        undo,
        maxOpsPerCommand,
        writer,
      });
    },
    async sample(def, size) {
      const atFrom = def.from === 1 ? { $or: [{ _v: { $exists: false } }, { _v: 1 }] } : { _v: def.from };
      const raws = await collectionOf(def).find(atFrom, { sort: { _id: 1 }, limit: size, batchSize: size }).toArray();
      return raws.map((raw) => toTargetItem(raw as Doc)).filter((item) => !item.malformed).map(({ id, doc }) => ({ id, doc }));
    },
    unexpandStep: mongoUnexpandStep,
    clearUndo: async (migrationId) => (undo ? undo.clear(migrationId) : 0),
  };
}

/**
 * Rollback before contract. A document the backfill wrote goes back exactly as it was: the fields
 * `up` added are removed, fields it changed or removed get their old values back (unless an
 * application changed them since), and `_v` is removed again if it was absent. A document written
 * at the new version by the application (no undo record) loses `addedFields` and returns to `from`;
 * an older document that still carries one of them loses it and keeps its version.
 */
export function mongoUnexpandStep(def: MigrationDefinition): (item: TargetItem) => Step {
  const fallback = unexpandStep(def);
  const added = def.addedFields ?? [];
  return (item) => {
    const { undo } = item;
    if (item.version < def.to && added.some((f) => f in item.doc)) {
      const doc: Doc = { ...item.doc };
      for (const field of added) delete doc[field];
      return { kind: 'write', doc, version: item.version };
    }
    if (!undo || item.version !== def.to) return fallback(item);
    const doc: Doc = { ...item.doc };
    for (const field of undo.added) delete doc[field];
    for (const { field, before, written } of undo.changed) if (sameValue(doc[field], written)) doc[field] = before;
    for (const { field, before } of undo.removed) if (!(field in doc)) doc[field] = before;
    return { kind: 'write', doc, version: def.from };
  };
}
