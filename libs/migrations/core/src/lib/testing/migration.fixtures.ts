import { Doc, InstanceHeartbeat, MigrationDefinition, SchemaSupport, flagNames, targetName } from '../migration.types';
import { FlagAdmin } from '../phase-machine';
import { checksumOf } from '../migration-registry';
import { Phase, flagsForPhase } from '../phases';
import { ControlStore, MigrationState, RunnerCommand } from '../store.contract';

/** Shape of a customer before `customers.full-name` (v1). */
export interface CustomerV1 extends Doc {
  firstName: string;
  lastName: string;
}

/** Shape after `customers.full-name` (v2); old fields are kept until contract. */
export interface CustomerV2 extends Doc {
  fullName: string;
}

/** `doc[field]` when it is a string; otherwise throws, saying whether it is missing or of another type. */
function nameField(doc: Doc, field: 'firstName' | 'lastName'): string {
  const value = doc[field];
  if (typeof value === 'string') return value;
  throw new Error(value === undefined ? `${field} is missing` : `${field} must be a string, got ${JSON.stringify(value)}`);
}

/** Options of {@link fullNameMigration}: any definition field, plus the collection of its MongoDB target. */
export type FullNameMigrationOptions = Partial<MigrationDefinition> & {
  /** Collection of the default `mongo` target. Default `customers`. */
  collection?: string;
};

/**
 * The reference expand/contract migration of every spec: `firstName` + `lastName` become
 * `fullName` (v1 -> v2), reversible, with a verify that the names still match. `up` throws on a
 * customer whose names are missing or not strings, so specs can exercise quarantine.
 */
export function fullNameMigration(options: FullNameMigrationOptions = {}): MigrationDefinition {
  const { collection = 'customers', ...overrides } = options;
  const def: MigrationDefinition<CustomerV1, CustomerV2> = {
    id: 'customers.full-name',
    description: 'firstName + lastName -> fullName',
    service: 'customers',
    target: { kind: 'mongo', collection },
    from: 1,
    to: 2,
    up: (doc) => ({ ...doc, fullName: `${nameField(doc, 'firstName')} ${nameField(doc, 'lastName')}` }),
    down: (doc) => {
      const { fullName, ...rest } = doc;
      const space = fullName.indexOf(' ');
      return { ...rest, firstName: fullName.slice(0, space), lastName: fullName.slice(space + 1) };
    },
    verify: (doc) => {
      if (typeof doc.fullName !== 'string' || !doc.fullName.trim()) return 'fullName is empty';
      if (typeof doc['firstName'] === 'string' && doc.fullName !== `${doc['firstName']} ${doc['lastName']}`) return 'fullName does not match the names';
      return true;
    },
    removedFields: ['firstName', 'lastName'],
    addedFields: ['fullName'],
  };
  return { ...(def as unknown as MigrationDefinition), ...overrides };
}

/** An additive migration (`tier` defaults to `basic`) with eager or lazy backfill. */
export function tierMigration(backfill: 'eager' | 'lazy', overrides: Partial<MigrationDefinition> = {}): MigrationDefinition {
  return {
    id: 'customers.tier',
    description: 'adds tier, default basic',
    service: 'customers',
    target: { kind: 'mongo', collection: 'customers' },
    from: 2,
    to: 3,
    strategy: { kind: 'additive', backfill },
    up: (doc) => ({ ...doc, tier: 'basic' }),
    verify: (doc) => ['basic', 'gold'].includes(doc['tier'] as string) || `unknown tier ${String(doc['tier'])}`,
    addedFields: ['tier'],
    ...overrides,
  };
}

/**
 * A lazy-only migration: each customer's PIN hash (`pin`, `v1:...`) is rehashed (`v2:...`) at its
 * next use, which only the service sees; `expire` removes the hash and marks the PIN must-reset.
 */
export function pinHashMigration(overrides: Partial<MigrationDefinition> = {}): MigrationDefinition {
  return {
    id: 'customers.pin-hash',
    description: 'PIN hashes rehashed with stronger parameters',
    service: 'customers',
    target: { kind: 'mongo', collection: 'customers' },
    from: 1,
    to: 2,
    strategy: {
      kind: 'lazy-only',
      upgradedWhen: 'at the next use of the PIN',
      expire: ({ pin: _pin, ...doc }) => ({ ...doc, pinHashedAt: null, pinResetRequired: true }),
    },
    up: (doc) => ({ ...doc, pinHashedAt: doc['pinHashedAt'] ?? null }),
    verify: (doc) => doc['pinResetRequired'] === true || String(doc['pin']).startsWith('v2:') || `pin ${String(doc['pin']).slice(0, 3)}... is not a v2 hash`,
    addedFields: ['pinHashedAt'],
    ...overrides,
  };
}

/** A customer document as stored at v1. */
export function customer(i: number): CustomerV1 {
  return { firstName: `First${i}`, lastName: `Last${i}` };
}

/**
 * The stored v1 customer number `i`, with an email. Every tenth one also carries fields of other
 * types (array, embedded document, date, null) that every job must leave untouched, as a real
 * collection would. The rest stay small: on FerretDB, size is time.
 */
export function customerDoc(i: number): Doc {
  const doc: Doc = { firstName: `First${i}`, lastName: `Last${i}`, email: `c${i}@example.com` };
  if (i % 10 === 0) Object.assign(doc, { tags: ['a', 'b'], address: { city: `City${i % 7}`, zip: String(10000 + i) }, since: new Date(Date.UTC(2020, 0, 1 + (i % 365))), note: null });
  return doc;
}

/** Zero-padded ids sort in insertion order, as `_id`s do. */
export const docId = (i: number): string => `c${String(i).padStart(5, '0')}`;

/** A heartbeat of one live instance; by default a `customers` build that reads v1..v2 and writes v1. */
export function heartbeat(
  instanceId: string,
  schema: Partial<SchemaSupport> = {},
  flags: Record<string, boolean> = {},
  overrides: Partial<InstanceHeartbeat> = {},
): InstanceHeartbeat {
  return {
    service: 'customers',
    instanceId,
    build: `build-${instanceId}`,
    schemas: { customers: { readMin: 1, readMax: 2, writes: 1, ...schema } },
    flags,
    at: new Date(),
    ...overrides,
  };
}

/** Flags every instance sees once the migration's flags are all in the given state. */
export function seenFlags(id: string, values: { writeNew?: boolean; readNew?: boolean; writeOld?: boolean }): Record<string, boolean> {
  const names = flagNames(id);
  const seen: Record<string, boolean> = {};
  for (const key of ['writeNew', 'readNew', 'writeOld'] as const) {
    const value = values[key];
    if (value !== undefined) seen[names[key]] = value;
  }
  return seen;
}

/** A {@link FlagAdmin} that records every call in order. */
export function recordingFlags(log: string[] = []): FlagAdmin & { calls: { flag: string; enabled: boolean }[]; log: string[] } {
  const calls: { flag: string; enabled: boolean }[] = [];
  return {
    calls,
    log,
    async set(flag, enabled) {
      calls.push({ flag, enabled });
      log.push(`flag ${flag}=${enabled}`);
    },
  };
}

/**
 * Live instances of a migration's service that see whatever the {@link FlagAdmin} last set, as
 * Unleash clients would: they read `from`..`to` and write `to` once write-new is on.
 */
export function simulatedFleet(def: MigrationDefinition, instanceIds: readonly string[] = ['i1', 'i2'], log: string[] = []) {
  const seen: Record<string, boolean> = { ...flagsForPhase(def, 'pending') };
  const admin = recordingFlags(log);
  const flags: typeof admin = {
    ...admin,
    async set(flag, enabled) {
      seen[flag] = enabled;
      await admin.set(flag, enabled);
    },
  };
  return {
    flags,
    seen,
    /** Every instance reports what it sees now. */
    async beat(store: ControlStore): Promise<void> {
      const writes = seen[flagNames(def.id).writeNew] ? def.to : def.from;
      for (const instanceId of instanceIds) {
        await store.heartbeats.beat(
          heartbeat(instanceId, {}, { ...seen }, { service: def.service, schemas: { [targetName(def.target)]: { readMin: def.from, readMax: def.to, writes } } }),
          60_000,
        );
      }
    },
  };
}

/** Sets the operator command of a migration directly in the store (compare-and-set on its revision). */
export async function setCommand(store: ControlStore, id: string, command: RunnerCommand): Promise<void> {
  const current = await store.state.load(id);
  const next: MigrationState = current
    ? { ...current, command, updatedAt: new Date() }
    : { id, phase: 'backfill', revision: 0, checksum: '-', command, updatedAt: new Date() };
  if (!(await store.state.save(next, current?.revision ?? 0))) throw new Error(`command for ${id} raced`);
}

/**
 * Puts a migration in `phase` directly in the store, as if it had been walked there (checksum of
 * `def`, command run, no backfill or verify recorded): for suites and benches that exercise one
 * job, which the orchestrator runs only in its phases.
 */
export async function placeInPhase(store: ControlStore, def: MigrationDefinition, phase: Phase): Promise<void> {
  const current = await store.state.load(def.id);
  const next: MigrationState = { id: def.id, phase, revision: current?.revision ?? 0, checksum: checksumOf(def), command: 'run', backfillDoneAt: null, verify: null, updatedAt: new Date() };
  if (!(await store.state.save(next, current?.revision ?? 0))) throw new Error(`state of ${def.id} raced`);
}

/** Resolves after `ms` milliseconds of real time. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
