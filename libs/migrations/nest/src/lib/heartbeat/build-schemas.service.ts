import {
  InstanceHeartbeat,
  MigrationDefinition,
  MigrationRegistry,
  SchemaSupport,
  flagNames,
  targetName,
} from '@zdm/migrations-core';
import { FlagSource } from '../flags/flag-source.contract';

/** The versions of one target (collection or key pattern) a build can read. */
export interface ReadRange {
  /** Lowest version this build can read (it upcasts from here). */
  readMin: number;
  /** Highest version this build can read; it never writes above it. */
  readMax: number;
}

/** Read ranges by target name. */
export type ReadRanges = Record<string, ReadRange>;

/** The registry's migrations owned by `service`. */
export function migrationsOf(registry: MigrationRegistry, service: string): MigrationDefinition[] {
  return registry.all().filter((def) => def.service === service);
}

/**
 * What a build that registered these migrations can read: for each target, from the first step's
 * `from` (it has every `up` to upcast from there) to the last step's `to`.
 */
export function defaultReadRanges(registry: MigrationRegistry, service: string): ReadRanges {
  const ranges: ReadRanges = {};
  for (const def of migrationsOf(registry, service)) {
    const target = targetName(def.target);
    const range = ranges[target];
    ranges[target] = range ? { readMin: Math.min(range.readMin, def.from), readMax: Math.max(range.readMax, def.to) } : { readMin: def.from, readMax: def.to };
  }
  return ranges;
}

/** Every problem with declared read ranges, one sentence each; empty when they are fine. */
export function readRangeProblems(registry: MigrationRegistry, ranges: ReadRanges): string[] {
  const problems: string[] = [];
  for (const [target, range] of Object.entries(ranges)) {
    const { readMin, readMax } = range ?? ({} as ReadRange);
    if (!Number.isInteger(readMin) || !Number.isInteger(readMax) || readMin < 1) {
      problems.push(`${target}: readMin and readMax must be integers >= 1, got ${JSON.stringify(range)}`);
    } else if (readMin > readMax) {
      problems.push(`${target}: readMin (${readMin}) is above readMax (${readMax})`);
    } else if (registry.path(target, readMin, readMax).length !== readMax - readMin) {
      const known = registry.path(target, 1, Number.MAX_SAFE_INTEGER).map((d) => `${d.from}->${d.to}`);
      problems.push(
        `${target}: reading v${readMin}..v${readMax} needs every step in between registered, but the registry has ${known.join(', ') || 'none'}`,
      );
    }
  }
  return problems;
}

/**
 * The version a build writes to `target` right now: it starts at `readMin` and moves up one step
 * for each migration in its range whose write-new flag is on.
 */
export function writeVersionOf(registry: MigrationRegistry, target: string, range: ReadRange, isEnabled: (flag: string) => boolean): number {
  let writes = range.readMin;
  for (const def of registry.path(target, range.readMin, range.readMax)) {
    if (def.from !== writes || !isEnabled(flagNames(def.id).writeNew)) break;
    writes = def.to;
  }
  return writes;
}

/** Per-target support of a build given the current flags, as heartbeats report it. */
export function schemaSupportOf(registry: MigrationRegistry, ranges: ReadRanges, isEnabled: (flag: string) => boolean): Record<string, SchemaSupport> {
  return Object.fromEntries(
    Object.entries(ranges).map(([target, range]) => [
      target,
      { readMin: range.readMin, readMax: range.readMax, writes: writeVersionOf(registry, target, range, isEnabled) },
    ]),
  );
}

/** Who a running instance is. */
export interface InstanceIdentity {
  service: string;
  instanceId: string;
  build: string;
}

/**
 * The schemas one build supports, with the write version following the flags. Hand `writeVersion`
 * to the store plugins (e.g. the mongoose plugin's `writeVersion()`), so writes follow the flags too.
 */
export class BuildSchemas {
  constructor(
    readonly registry: MigrationRegistry,
    readonly ranges: ReadRanges,
    readonly flags: FlagSource,
  ) {
    const problems = readRangeProblems(registry, ranges);
    if (problems.length) throw new Error(`Invalid read ranges:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }

  readRange(target: string): ReadRange {
    const range = this.ranges[target];
    if (!range) throw new Error(`No read range declared for "${target}". Declared: ${Object.keys(this.ranges).join(', ') || '(none)'}`);
    return range;
  }

  /** The version this build writes to `target` now (follows the write-new flags). */
  writeVersion(target: string): number {
    return writeVersionOf(this.registry, target, this.readRange(target), (flag) => this.flags.isEnabled(flag));
  }

  support(): Record<string, SchemaSupport> {
    return schemaSupportOf(this.registry, this.ranges, (flag) => this.flags.isEnabled(flag));
  }

  /** The heartbeat this instance reports now. */
  heartbeat(identity: InstanceIdentity, at = new Date()): InstanceHeartbeat {
    return { ...identity, schemas: this.support(), flags: this.flags.snapshot(), at };
  }
}
