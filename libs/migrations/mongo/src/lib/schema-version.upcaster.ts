import type { Doc, MigrationDefinition, MigrationRegistry } from '@zdm/migrations-core';
import { sameValue } from './document.diff';

/** Options shared by {@link createUpcaster} and `versionedPlugin`. */
export interface VersionedOptions {
  /** The migrations this build knows; upcasting follows their `up` chain. */
  registry: MigrationRegistry;
  /** Collection (the migrations' target name) the documents belong to, e.g. `customers`. */
  collection: string;
  /** Lowest document version this build reads. */
  readMin: number;
  /** Highest document version this build reads; older documents are upcast to it in memory. */
  readMax: number;
  /** Version this build writes now; asked on every write, so a flag may change it at run time. */
  writeVersion: () => number;
  /** Called for every document upcast in memory, e.g. to count lazy upcasts in a metric. */
  onUpcast?: (event: UpcastEvent) => void;
}

/** One document upcast in memory. */
export interface UpcastEvent {
  collection: string;
  /** The document's `_id`. */
  id: unknown;
  /** Version stored (`_v`, 1 when absent). */
  from: number;
  /** Version the reader got (`readMax`). */
  to: number;
}

/** A document this build must not read: above `readMax`, below `readMin`, a bad `_v`, or an `up` that threw. */
export class UnreadableVersionError extends Error {
  constructor(
    readonly collection: string,
    readonly id: unknown,
    /** The stored `_v` as found (undefined when absent). */
    readonly storedVersion: unknown,
    readonly readMin: number,
    readonly readMax: number,
    detail: string,
  ) {
    super(`${collection} document ${String(id)} ${detail}; this build reads v${readMin}..v${readMax}`);
    this.name = 'UnreadableVersionError';
  }
}

/** Thrown before a write when the build would stamp a version it cannot read. */
export class UnwritableVersionError extends Error {
  constructor(
    readonly collection: string,
    readonly version: number,
    readonly readMin: number,
    readonly readMax: number,
  ) {
    super(
      `refusing to write ${collection} at v${version}: this build reads only v${readMin}..v${readMax}, and a build never writes a version it does not know`,
    );
    this.name = 'UnwritableVersionError';
  }
}

/** Whether `err` says a document's version is outside what this build reads (so it must not be served). */
export function isUnreadableVersion(err: unknown): err is UnreadableVersionError {
  return err instanceof UnreadableVersionError;
}

/** A document upcast to `readMax`, and what changed on the way. */
export interface UpcastResult {
  doc: Doc;
  /** Version stored. */
  from: number;
  /** Top-level fields the upcast added, changed or removed (empty when nothing was upcast). */
  fields: string[];
}

/** Reads documents of one collection the way a build with a given read range must. */
export interface Upcaster {
  readonly options: VersionedOptions;
  /** The document at `readMax` (a new object when upcast, the same one otherwise); throws {@link UnreadableVersionError}. */
  upcast(raw: Doc): UpcastResult;
  /**
   * The `up` chain from `from` to `readMax` over content without `_v`/`_rev`, without the read
   * checks: how a document read at `from` and changed in memory looks at `readMax`.
   */
  reshape(content: Doc, from: number): Doc;
  /** {@link upcast} for `lean()` results: one document, an array of them, or null. */
  upcastLean<T>(value: T): T;
  /** The version to stamp now; throws {@link UnwritableVersionError} outside `readMin..readMax`. */
  writeVersion(): number;
  /**
   * Whether a write that `$set`s these fields produces a complete document at `version`: true when
   * every step from `readMin` up to it declares `addedFields` and all of them are set.
   */
  writesCompleteShape(version: number, setFields: readonly string[]): boolean;
}

/** Whether `v` can be a schema version: a whole number from 1. */
export const isVersion = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 1;

/** Builds the read/write rules of one build for one collection; throws on an inconsistent range. */
export function createUpcaster(options: VersionedOptions): Upcaster {
  const { registry, collection, readMin, readMax } = options;
  if (!isVersion(readMin) || !isVersion(readMax) || readMin > readMax) {
    throw new Error(`versioned ${collection}: readMin and readMax must be integers with 1 <= readMin <= readMax, got ${readMin}..${readMax}`);
  }
  const steps = new Map<number, MigrationDefinition>();
  for (const def of registry.path(collection, 1, readMax)) steps.set(def.from, def);
  for (let v = readMin; v < readMax; v++) {
    if (!steps.has(v)) throw new Error(`versioned ${collection}: reads v${readMin}..v${readMax} but the registry has no step ${v} -> ${v + 1}`);
  }

  /** Runs the `up` chain from `from` to `readMax` over content without `_v`/`_rev`. */
  const shape = (content: Doc, from: number, fail: (detail: string) => Error): { doc: Doc; fields: string[] } => {
    let doc: Doc = content;
    for (let v = from; v < readMax; v++) {
      const step = steps.get(v) as MigrationDefinition;
      try {
        doc = step.up(doc);
      } catch (err) {
        throw fail(`is at v${from} and ${step.id} up() threw: ${err instanceof Error ? err.message : String(err)}`);
      }
      if (!doc || typeof doc !== 'object') throw fail(`is at v${from} and ${step.id} up() returned no document`);
    }
    const fields = [...Object.keys(doc), ...Object.keys(content)].filter((k, i, all) => all.indexOf(k) === i && !sameValue(content[k], doc[k]));
    return { doc, fields };
  };

  const upcast = (raw: Doc): UpcastResult => {
    const stored = raw['_v'];
    const fail = (detail: string) => new UnreadableVersionError(collection, raw['_id'], stored, readMin, readMax, detail);
    const from = stored === undefined ? 1 : stored;
    if (!isVersion(from)) throw fail(`has _v ${JSON.stringify(stored)}, which is not a version`);
    if (from > readMax) throw fail(`is at v${from}, newer than this build can read (deploy a build that reads it, or roll the migration back)`);
    if (from < readMin) throw fail(`is at v${from}, older than this build can read (run the backfill first)`);
    if (from === readMax) return { doc: raw, from, fields: [] };
    const { _v, _rev, ...content } = raw;
    const { doc, fields } = shape(content, from, fail);
    options.onUpcast?.({ collection, id: raw['_id'], from, to: readMax });
    return { doc: { ...doc, _v: readMax, ...(_rev === undefined ? {} : { _rev }) }, from, fields };
  };

  const reshape = (content: Doc, from: number): Doc =>
    shape(content, from, (detail) => new Error(`cannot write ${collection} document ${String(content['_id'])} at v${readMax}: it ${detail}`)).doc;

  const upcastLean = <T>(value: T): T => {
    if (Array.isArray(value)) return value.map((d) => upcastLean(d)) as T;
    if (value === null || value === undefined || typeof value !== 'object') return value;
    return upcast(value as Doc).doc as T;
  };

  const writeVersion = () => {
    const version = options.writeVersion();
    if (!isVersion(version) || version < readMin || version > readMax) {
      throw new UnwritableVersionError(collection, version, readMin, readMax);
    }
    return version;
  };

  const writesCompleteShape = (version: number, setFields: readonly string[]) => {
    for (let v = readMin; v < version; v++) {
      const added = steps.get(v)?.addedFields ?? [];
      if (!added.length || !added.every((f) => setFields.includes(f))) return false;
    }
    return true;
  };

  return { options, upcast, reshape, upcastLean, writeVersion, writesCompleteShape };
}
