import type { MigrationRequirement } from './service-schema';

/** A stored document or value, as the adapters hand it to migrations. */
export type Doc = Record<string, unknown>;

/** What `verify(doc)` may answer: `true` when the document is right, otherwise the reason. */
export type VerifyResult = true | string;

/**
 * Where a migration's data lives. `kind` names the backend that owns it (`mongo`, `redis`, ...);
 * the other fields are that backend's own, and that backend checks them ({@link TargetKind}), so a
 * new backend needs no change here. The target's name, which heartbeats, plans and status use, is
 * its `name` field, or else its first string field after `kind` (`collection`, `keyPattern`).
 */
export interface MigrationTarget {
  kind: string;
  readonly [field: string]: unknown;
}

/**
 * What a backend knows of its targets: their kind and what makes one valid. It is the backend's,
 * not core's: `mongoTargetKind` lives in `@zdm/migrations-mongo`, `redisTargetKind` in
 * `@zdm/migrations-redis`.
 */
export interface TargetKind<T extends MigrationTarget = MigrationTarget> {
  kind: T['kind'];
  /** What is wrong with a target of this kind, one sentence each (`target.collection is required`); empty when it is valid. */
  problems(target: MigrationTarget): string[];
}

/**
 * How the shape change is rolled out.
 * - `expand-contract`: old fields are kept while both shapes are live, then removed (all phases).
 * - `additive`: only new fields appear; no dual-write, no contract. `backfill: 'eager'` rewrites
 *   every stored document; `'lazy'` relies on the read-time default and rewrites on the next write.
 * - `lazy-only`: the new version cannot be computed from the stored document (a password hash
 *   needs the plaintext, known only at login), so there is no backfill: the service upgrades each
 *   document when it can ({@link LazyOnlyStrategy.upgradedWhen}), and no gate past `backfill` holds
 *   while a document is below `to`. An operator may expire the rest (`zdm lazy expire`).
 */
export type MigrationStrategy =
  | { kind: 'expand-contract' }
  | { kind: 'additive'; backfill: 'eager' | 'lazy' }
  | LazyOnlyStrategy;

/** A migration that cannot be backfilled: documents are upgraded one by one by the service. */
export interface LazyOnlyStrategy {
  kind: 'lazy-only';
  /** When the service upgrades a document, for plans and gates, e.g. `at the user's next successful login`. */
  upgradedWhen: string;
  /**
   * The service's hook for documents nobody upgraded by a deadline: the document at `to` that
   * replaces a `from` one (e.g. the hash removed and the account marked must-reset). It must keep
   * the document (nothing is deleted) and satisfy `verify`. Without it `zdm lazy expire` refuses.
   */
  expire?: (doc: Doc) => Doc;
}

/** One step `from -> to` of one collection or keyspace, declared in code and registered explicitly. */
export interface MigrationDefinition<From extends Doc = Doc, To extends Doc = Doc> {
  /** Unique id, e.g. `customers.full-name`. Flags and control records are named after it. */
  id: string;
  /** One line saying what the step changes; shown by `zdm plan` and `zdm status`. */
  description: string;
  /** Owning service, e.g. `customers`. Heartbeats of this service gate the phases. */
  service: string;
  /** Where the data lives. */
  target: MigrationTarget;
  /** Version the step reads. Always `to - 1`. */
  from: number;
  /** Version the step writes. */
  to: number;
  /** Rollout strategy; defaults to `expand-contract`. */
  strategy?: MigrationStrategy;
  /** Pure function from the old shape to the new one. May keep the old fields (expand). */
  up: (doc: From) => To;
  /** Pure inverse of `up` over the contracted shape. Absent means irreversible past contract. */
  down?: (doc: To) => From;
  /** States what must hold once the step is done; `true` or a reason. */
  verify?: (doc: To) => VerifyResult;
  /** Fields the old shape has and the new one drops at contract. */
  removedFields?: readonly string[];
  /** Fields the new shape introduces (used by rollback before contract and by plans). */
  addedFields?: readonly string[];
  /**
   * Steps of other services' migrations this one waits for: it leaves no phase (not even
   * `pending`) until each service reports its migration at that phase or past it, asked through
   * the `schemas` port of the zdm config (e.g. `HttpServiceSchemas`). An unreachable service holds it.
   */
  requires?: readonly MigrationRequirement[];
}

/**
 * What one build does with one target (collection or key pattern): the versions it can read and the
 * version it writes now. A heartbeat carries one per target.
 */
export interface SchemaSupport {
  /** Lowest version this build can read. */
  readMin: number;
  /** Highest version this build can read. */
  readMax: number;
  /** Version this build writes right now (may depend on flags). */
  writes: number;
}

/** What a running instance reports every few seconds to the control store. */
export interface InstanceHeartbeat {
  service: string;
  instanceId: string;
  /** Build identifier, e.g. a git sha or release name. */
  build: string;
  /** Per target name (collection or key pattern): which versions it reads and writes. */
  schemas: Record<string, SchemaSupport>;
  /** Flag values the instance currently sees. */
  flags: Record<string, boolean>;
  /**
   * Other facts the instance reports, by name, each a list of strings (e.g. `auth.jwks-kids`: the
   * key ids its token verifier has fetched). Gates read them with {@link factGate}. Absent when none.
   */
  facts?: Record<string, string[]>;
  /** When the heartbeat was written. */
  at: Date;
}

/** The three flags each migration owns. */
export interface MigrationFlags {
  writeNew: string;
  readNew: string;
  writeOld: string;
}

export function flagNames(id: string): MigrationFlags {
  return { writeNew: `${id}.write-new`, readNew: `${id}.read-new`, writeOld: `${id}.write-old` };
}

/** The target's name: its `name` field, or else its first string field after `kind`; '' when it has none. */
export function targetName(target: MigrationTarget): string {
  if (typeof target['name'] === 'string') return target['name'];
  const first = Object.entries(target).find(([field, value]) => field !== 'kind' && typeof value === 'string');
  return (first?.[1] as string | undefined) ?? '';
}

export function strategyOf(def: Pick<MigrationDefinition, 'strategy'>): MigrationStrategy {
  return def.strategy ?? { kind: 'expand-contract' };
}

/** The lazy-only strategy of `def`, or null when it has another one. */
export function lazyOnlyOf(def: Pick<MigrationDefinition, 'strategy'>): LazyOnlyStrategy | null {
  const strategy = strategyOf(def);
  return strategy.kind === 'lazy-only' ? strategy : null;
}

/**
 * True when the migration walks the short path (pending, expand, backfill, verify, complete): no
 * field is removed, so there is no dual-write, switch-reads or contract (additive and lazy-only).
 */
export function hasShortPath(def: Pick<MigrationDefinition, 'strategy'>): boolean {
  return strategyOf(def).kind !== 'expand-contract';
}

/**
 * True for an additive migration with a lazy backfill: documents stay at `from` at rest and get
 * the read-time default, so no runner rewrites them and no gate waits for them.
 */
export function isLazyAdditive(def: Pick<MigrationDefinition, 'strategy'>): boolean {
  const strategy = strategyOf(def);
  return strategy.kind === 'additive' && strategy.backfill === 'lazy';
}
