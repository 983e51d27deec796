import { createHash } from 'node:crypto';
import { Doc, MigrationDefinition, MigrationTarget, TargetKind, strategyOf, targetName } from './migration.types';
import { requirementProblems } from './service-schema';

/** One problem found in the registered chain, naming the migration it concerns. */
export interface DefinitionProblem {
  migrationId: string;
  code:
    | 'invalid-field'
    | 'duplicate-id'
    | 'not-plus-one'
    | 'version-gap'
    | 'duplicate-step'
    | 'down-missing'
    | 'checksum-changed';
  message: string;
}

/** Thrown at startup when the registered migrations do not form a valid chain. */
export class MigrationDefinitionError extends Error {
  constructor(readonly problems: DefinitionProblem[]) {
    super(
      `Invalid migration definitions (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((p) => `  - ${p.migrationId}: ${p.message}`).join('\n'),
    );
    this.name = 'MigrationDefinitionError';
  }
}

/**
 * `def`'s target as `kind`'s type. Throws a {@link MigrationDefinitionError} naming the problems
 * when it is of another kind or `kind` finds it invalid; a backend calls it before using a definition.
 */
export function targetOf<T extends MigrationTarget>(def: MigrationDefinition, kind: TargetKind<T>): T {
  const problems = targetKindProblems([def], kind, { allKinds: true });
  if (problems.length) throw new MigrationDefinitionError(problems);
  return def.target as T;
}

/**
 * The problems of every target of `kind` among `defs` (with `allKinds`, a target of another kind is
 * one too). A backend runs it over its registry when it is created, so a bad target fails at startup.
 */
export function targetKindProblems(defs: readonly MigrationDefinition[], kind: TargetKind, options: { allKinds?: boolean } = {}): DefinitionProblem[] {
  return defs.flatMap((def) => {
    const problem = (message: string): DefinitionProblem => ({ migrationId: def.id, code: 'invalid-field', message });
    if (def.target?.kind !== kind.kind) return options.allKinds ? [problem(`targets ${String(def.target?.kind)}, not ${kind.kind}; give it to the ${String(def.target?.kind)} backend`)] : [];
    return kind.problems(def.target).map(problem);
  });
}

/** Options for {@link MigrationRegistry.validate}. */
export interface ValidateOptions {
  /** Checksums recorded when migrations were applied, by migration id. */
  appliedChecksums?: Record<string, string>;
  /** Migration ids for which rollback past contract is requested: these must have `down`. */
  requireDown?: readonly string[];
}

/**
 * A stable fingerprint of a definition: id, target, versions, strategy, fields and the source of
 * `up`, `down` and `verify`. Changing any of them after the migration was applied is refused.
 */
export function checksumOf(def: MigrationDefinition): string {
  const parts = [
    def.id,
    JSON.stringify(def.target),
    `${def.from}->${def.to}`,
    JSON.stringify(strategyOf(def)),
    JSON.stringify(def.removedFields ?? []),
    JSON.stringify(def.addedFields ?? []),
    def.up.toString(),
    def.down?.toString() ?? '',
    def.verify?.toString() ?? '',
  ];
  return createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 16);
}

const ID_PATTERN = /^[a-z0-9]+(?:[-.][a-z0-9]+)*$/;

/** Declares a migration; a typed identity function that keeps definitions readable. */
export function defineMigration<From extends Doc, To extends Doc>(
  def: MigrationDefinition<From, To>,
): MigrationDefinition<From, To> {
  return def;
}

function shapeProblems(def: MigrationDefinition): DefinitionProblem[] {
  const id = typeof def.id === 'string' && def.id ? def.id : '<missing id>';
  const bad = (message: string): DefinitionProblem => ({ migrationId: id, code: 'invalid-field', message });
  const problems: DefinitionProblem[] = [];
  if (!ID_PATTERN.test(def.id ?? '')) problems.push(bad(`id must be lower-case words joined by "." or "-", got ${JSON.stringify(def.id)}`));
  if (!def.description) problems.push(bad('description is required'));
  if (!def.service) problems.push(bad('service is required'));
  if (!Number.isInteger(def.from) || def.from < 1) problems.push(bad(`from must be an integer >= 1, got ${def.from}`));
  if (!Number.isInteger(def.to)) problems.push(bad(`to must be an integer, got ${def.to}`));
  if (typeof def.up !== 'function') problems.push(bad('up must be a function'));
  if (def.down !== undefined && typeof def.down !== 'function') problems.push(bad('down must be a function when given'));
  if (def.verify !== undefined && typeof def.verify !== 'function') problems.push(bad('verify must be a function when given'));
  const target = def.target;
  // The rest of the target is its backend's to check (TargetKind), when the backend is created.
  if (!target || typeof target.kind !== 'string' || !target.kind) problems.push(bad('target.kind must name the backend that owns the data, e.g. "mongo" or "redis"'));
  else if (!targetName(target)) problems.push(bad(`the ${target.kind} target has no name: give it a name field, or a string field after kind (e.g. collection)`));
  const strategy = strategyOf(def);
  if (strategy.kind !== 'expand-contract' && def.removedFields?.length) {
    problems.push(bad(`${strategy.kind === 'additive' ? 'an additive' : 'a lazy-only'} migration cannot remove fields; use expand-contract`));
  }
  if (strategy.kind === 'lazy-only') {
    if (typeof strategy.upgradedWhen !== 'string' || !strategy.upgradedWhen.trim()) problems.push(bad('a lazy-only migration must say when documents are upgraded (strategy.upgradedWhen)'));
    if (strategy.expire !== undefined && typeof strategy.expire !== 'function') problems.push(bad('strategy.expire must be a function when given'));
  }
  if (strategy.kind === 'expand-contract' && !def.removedFields?.length) {
    problems.push(bad('an expand-contract migration must list removedFields (the old fields dropped at contract)'));
  }
  problems.push(...requirementProblems(def).map(bad));
  return problems;
}

/**
 * The explicit list of migrations a build knows. Nothing is discovered from the filesystem:
 * bundlers break globbing, so every migration is passed in by the code that owns it.
 */
export class MigrationRegistry {
  private readonly byId = new Map<string, MigrationDefinition>();

  constructor(private readonly definitions: readonly MigrationDefinition[]) {
    for (const def of definitions) if (!this.byId.has(def.id)) this.byId.set(def.id, def);
  }

  /** Builds a registry and validates it, throwing {@link MigrationDefinitionError} on any problem. */
  static create(definitions: readonly MigrationDefinition[], options: ValidateOptions = {}): MigrationRegistry {
    const registry = new MigrationRegistry(definitions);
    const problems = registry.problems(options);
    if (problems.length) throw new MigrationDefinitionError(problems);
    return registry;
  }

  /** Every problem in the chain; empty when it is valid. */
  problems(options: ValidateOptions = {}): DefinitionProblem[] {
    const problems: DefinitionProblem[] = [];
    const seen = new Set<string>();
    for (const def of this.definitions) {
      problems.push(...shapeProblems(def));
      if (seen.has(def.id)) {
        problems.push({ migrationId: def.id, code: 'duplicate-id', message: `id "${def.id}" is registered more than once` });
      }
      seen.add(def.id);
      if (Number.isInteger(def.from) && Number.isInteger(def.to) && def.to !== def.from + 1) {
        problems.push({
          migrationId: def.id,
          code: 'not-plus-one',
          message: `a step must go from n to n+1, got ${def.from} -> ${def.to}`,
        });
      }
    }
    for (const [target, chain] of this.chains()) {
      const sorted = [...chain].sort((a, b) => a.from - b.from);
      for (let i = 1; i < sorted.length; i++) {
        const prev = sorted[i - 1];
        const cur = sorted[i];
        if (cur.from === prev.from) {
          problems.push({
            migrationId: cur.id,
            code: 'duplicate-step',
            message: `step ${cur.from} -> ${cur.to} of ${target} is also declared by "${prev.id}"`,
          });
        } else if (cur.from !== prev.to) {
          problems.push({
            migrationId: cur.id,
            code: 'version-gap',
            message: `${target} has no step from ${prev.to} to ${cur.from} (after "${prev.id}")`,
          });
        }
      }
      if (sorted.length && sorted[0].from !== 1 && !sorted.some((d) => d.from === 1)) {
        problems.push({
          migrationId: sorted[0].id,
          code: 'version-gap',
          message: `${target} starts at version ${sorted[0].from}; the chain must start at version 1`,
        });
      }
    }
    for (const id of options.requireDown ?? []) {
      const def = this.byId.get(id);
      if (def && !def.down) {
        problems.push({
          migrationId: id,
          code: 'down-missing',
          message: 'rollback past contract was requested but the migration has no down(); it is irreversible',
        });
      }
    }
    for (const [id, recorded] of Object.entries(options.appliedChecksums ?? {})) {
      const def = this.byId.get(id);
      if (def && checksumOf(def) !== recorded) {
        problems.push({
          migrationId: id,
          code: 'checksum-changed',
          message: `already applied with checksum ${recorded}, but the code now has ${checksumOf(def)}; write a new migration instead of editing an applied one`,
        });
      }
    }
    return problems;
  }

  /** Migrations grouped by target name. */
  chains(): Map<string, MigrationDefinition[]> {
    const chains = new Map<string, MigrationDefinition[]>();
    for (const def of this.definitions) {
      if (!def.target) continue;
      const key = targetName(def.target);
      chains.set(key, [...(chains.get(key) ?? []), def]);
    }
    return chains;
  }

  get(id: string): MigrationDefinition {
    const def = this.byId.get(id);
    if (!def) throw new Error(`Unknown migration "${id}". Known: ${[...this.byId.keys()].join(', ') || '(none)'}`);
    return def;
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  all(): readonly MigrationDefinition[] {
    return [...this.byId.values()];
  }

  /** Latest version of a target that this registry knows. */
  latestVersion(target: string): number {
    return Math.max(1, ...(this.chains().get(target) ?? []).map((d) => d.to));
  }

  /** The steps to go from `version` up to `to` for a target, in order. */
  path(target: string, version: number, to: number): MigrationDefinition[] {
    const chain = [...(this.chains().get(target) ?? [])].sort((a, b) => a.from - b.from);
    return chain.filter((d) => d.from >= version && d.to <= to);
  }
}
