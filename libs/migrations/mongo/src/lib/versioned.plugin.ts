import type { Doc } from '@zdm/migrations-core';
import { Document, Query, Schema, mongo } from 'mongoose';
import { sameValue } from './document.diff';
import { Upcaster, VersionedOptions, createUpcaster } from './schema-version.upcaster';

/** Options for {@link versionedPlugin}. */
export type VersionedPluginOptions = VersionedOptions;

/** What the plugin adds to the model, e.g. `Customer.upcastLean(await Customer.find().lean())`. */
export interface VersionedModelStatics {
  /** Upcasts `lean()` results (one document, an array, or null) like hydration does. */
  upcastLean<T>(value: T): T;
}

/** Where a hydrated document remembers how it was upcast, in `doc.$locals`. */
const UPCAST = 'zdmUpcast';

interface UpcastLocals {
  /** Version stored (after the last save: the version that save wrote). */
  stored: number;
  /** Fields the in-memory upcast added, changed or removed. */
  fields: string[];
}

/**
 * Mongoose plugin for a collection under zero-downtime migrations.
 *
 * Reads: hydrated documents below `readMax` are upcast in memory through the registry's `up` chain
 * (`Model.upcastLean(doc)` or {@link createUpcaster} does the same for `lean()` results; a query
 * whose projection leaves `_v` out gets its partial documents as stored); a
 * document above `readMax`, below `readMin` or with a bad `_v` fails the read with
 * `UnreadableVersionError` naming its `_id` and versions, instead of being served mangled.
 *
 * Writes: every write `$inc`s the revision counter `_rev` and stamps `_v` with `writeVersion()`,
 * which must lie in `readMin..readMax` (else `UnwritableVersionError`):
 * - `save()` and inserts stamp the write version; saving an upcast document at `readMax` also
 *   persists the fields the upcast produced, so the stored document is complete at that version.
 * - Query updates cannot see the stored document, so they stamp the write version only when they
 *   `$set` every field the steps up to it add. Otherwise a build writing an older version than it
 *   reads lowers `_v` to it (`$min`), and a build writing its newest version leaves `_v` alone: a
 *   partial update must not label an old document as new. A document stored without `_v` is v1,
 *   but `$min` sets a missing field to its operand: a partial query update by a build writing a
 *   version above 1 labels it with that version. `VersionedRepository.update` reads the stored
 *   version first and pins it, so services' updates never do this; raw query updates must.
 * - Pipeline updates are refused (they cannot be stamped on every server), as are writes that set
 *   `_v` or `_rev` themselves.
 */
export function versionedPlugin(schema: Schema, options: VersionedPluginOptions): void {
  const upcaster = createUpcaster(options);
  const versionKey = schema.get('versionKey');
  if (versionKey === '_v' || versionKey === '_rev') {
    throw new Error(`versionedPlugin: the schema's versionKey "${versionKey}" collides with the plugin's _v/_rev; choose another versionKey`);
  }
  schema.add({ _v: { type: Number }, _rev: { type: Number } });

  schema.pre('init', function (this: Document, raw: Doc) {
    // A projection without `_v` hides the version: such a partial document is served as stored.
    if (!this.isSelected('_v')) return;
    const result = upcaster.upcast(raw);
    const locals: UpcastLocals = { stored: result.from, fields: result.fields };
    this.$locals[UPCAST] = locals;
    if (result.doc === raw) return;
    for (const key of Object.keys(raw)) if (!(key in result.doc)) delete raw[key];
    Object.assign(raw, result.doc);
  });

  schema.pre('save', function (this: Document) {
    if (!this.isNew && !this.isSelected('_v')) {
      throw new Error(`cannot save ${options.collection} document ${String(this._id)}: it was loaded without _v, so its stored version is unknown; select _v`);
    }
    const version = upcaster.writeVersion();
    const locals = this.$locals[UPCAST] as UpcastLocals | undefined;
    if (!this.isNew && locals && version > locals.stored) {
      if (version < options.readMax) {
        throw new Error(
          `cannot save ${options.collection} document ${String(this._id)} at v${version}: it was read at v${locals.stored} and upcast to v${options.readMax} in memory`,
        );
      }
      // Derive the new shape again from what the document holds now (its old fields may have
      // changed since it was read); fields the application set itself are kept as set.
      const { _v, _rev, ...content } = this.toObject({ depopulate: true, virtuals: false }) as Doc;
      const shaped = upcaster.reshape(content, locals.stored);
      for (const [field, value] of Object.entries(shaped)) {
        if (field !== '_id' && !this.isModified(field) && !sameValue(content[field], value)) this.set(field, value);
      }
      for (const field of locals.fields) this.markModified(field);
    }
    this.set('_v', version);
    this.markModified('_v');
    this.$inc('_rev', 1);
  });
  schema.post('save', function (this: Document) {
    const locals = this.$locals[UPCAST] as UpcastLocals | undefined;
    this.$locals[UPCAST] = { stored: this.get('_v') as number, fields: locals?.fields ?? [] };
    // Mongoose 9 keeps a `$inc` after save and would send it again with the next save.
    const internal = (this as unknown as { $__?: { primitiveAtomics?: Record<string, unknown> } }).$__;
    if (internal?.primitiveAtomics) delete internal.primitiveAtomics['_rev'];
  });

  schema.pre(['updateOne', 'updateMany', 'findOneAndUpdate'], { document: false, query: true }, function (this: Query<unknown, unknown>) {
    this.setUpdate(stampUpdate(upcaster, this.getUpdate() as Doc | Doc[] | null, !!this.getOptions().upsert) as never);
  });
  schema.pre(['replaceOne', 'findOneAndReplace'], { document: false, query: true }, function (this: Query<unknown, unknown>) {
    this.setUpdate(stampReplacement(upcaster, this.getUpdate() as Doc) as never);
  });
  schema.pre('insertMany', function (docs: unknown) {
    for (const doc of Array.isArray(docs) ? docs : [docs]) stampInsert(upcaster, doc);
  });
  schema.pre('bulkWrite', function (ops: mongo.AnyBulkWriteOperation[]) {
    for (const op of ops) stampBulkOp(upcaster, op);
  });
  schema.static('upcastLean', function <T>(value: T): T {
    return upcaster.upcastLean(value);
  });
}

function refuseBookkeeping(fields: Doc | undefined, where: string): void {
  for (const key of ['_v', '_rev']) {
    if (fields && key in fields) throw new Error(`versionedPlugin owns ${key}; remove it from ${where}`);
  }
}

/** Adds the `_v` and `_rev` bookkeeping to an operator update (see {@link versionedPlugin}). */
export function stampUpdate(upcaster: Upcaster, update: Doc | Doc[] | null, upsert: boolean): Doc {
  if (Array.isArray(update)) throw new Error('versionedPlugin cannot stamp pipeline updates; use update operators');
  const ops: Record<string, Doc> = {};
  for (const [key, value] of Object.entries(update ?? {})) {
    if (key.startsWith('$')) ops[key] = { ...(value as Doc) };
    else ops['$set'] = { ...ops['$set'], [key]: value };
  }
  for (const [op, fields] of Object.entries(ops)) refuseBookkeeping(fields, `the update's ${op}`);
  const version = upcaster.writeVersion();
  const { readMax } = upcaster.options;
  if (upcaster.writesCompleteShape(version, Object.keys(ops['$set'] ?? {}))) ops['$set'] = { ...ops['$set'], _v: version };
  else if (version < readMax) ops['$min'] = { ...ops['$min'], _v: version };
  else if (upsert) ops['$setOnInsert'] = { ...ops['$setOnInsert'], _v: version };
  ops['$inc'] = { ...ops['$inc'], _rev: 1 };
  return ops;
}

/**
 * A replacement is a whole document, so it is stamped with the write version. Its `_rev` cannot be
 * incremented without reading the stored one, so it gets a fresh value that differs from it.
 */
export function stampReplacement(upcaster: Upcaster, replacement: Doc): Doc {
  const { _v, _rev, ...content } = replacement;
  return { ...content, _v: upcaster.writeVersion(), _rev: Date.now() };
}

function stampInsert(upcaster: Upcaster, doc: unknown): void {
  const stamp = { _v: upcaster.writeVersion(), _rev: 1 };
  if (doc instanceof Document) doc.set(stamp);
  else if (doc && typeof doc === 'object') Object.assign(doc, stamp);
}

function stampBulkOp(upcaster: Upcaster, op: mongo.AnyBulkWriteOperation): void {
  if ('insertOne' in op) stampInsert(upcaster, op.insertOne.document);
  else if ('updateOne' in op) op.updateOne.update = stampUpdate(upcaster, op.updateOne.update as Doc, !!op.updateOne.upsert);
  else if ('updateMany' in op) op.updateMany.update = stampUpdate(upcaster, op.updateMany.update as Doc, !!op.updateMany.upsert);
  else if ('replaceOne' in op) op.replaceOne.replacement = stampReplacement(upcaster, op.replaceOne.replacement as Doc);
}
