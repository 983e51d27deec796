import type { Redis } from 'ioredis';
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
  unexpandStep,
  contractStep,
} from '@zdm/migrations-core';
import { KeyspaceOptions, RedisCas, RedisKeyspace } from './keyspace.target';
import { RelocatingKeyspace, oldKeyLeft, relocateContractStep, relocateUnexpandStep } from './relocating-keyspace';
import { createRedisControlStore } from './redis-control.store';
import { redisTargetKind } from './redis.target';

/** Options for {@link createRedisBackend}. */
export interface RedisBackendOptions extends KeyspaceOptions {
  /** Client for the data (and, by default, the control records). Must not use ioredis `keyPrefix`. */
  redis: Redis;
  /** Control store; defaults to {@link createRedisControlStore} on the same client. */
  store?: ControlStore;
  /** Key prefix of the default control store. Default `zdm:`. */
  controlPrefix?: string;
  /** The migrations this backend will run; their redis targets are checked when it is created. */
  registry?: MigrationRegistry;
}

/** Whether contract still has to touch an item at `to`: a removed field, or (relocate) its old key. */
const hasOldFields = (def: MigrationDefinition, item: TargetItem) => (def.removedFields ?? []).some((f) => f in item.doc) || oldKeyLeft(def, item);

const relocates = (def: MigrationDefinition) => def.target.kind === redisTargetKind.kind && def.target['versioning'] === 'relocate';

/** Which items each job still has to touch; undecodable values count until they are fixed. */
function remainingFor(def: MigrationDefinition, job: JobKind): (item: TargetItem) => boolean {
  switch (job) {
    case 'backfill':
      return (item) => !!item.malformed || item.version < def.to;
    case 'verify':
      return () => true;
    case 'contract':
      return (item) => !!item.malformed || item.version < def.to || hasOldFields(def, item);
    case 'down':
    case 'unexpand':
      return (item) => !item.malformed && item.version >= def.to;
  }
}

/**
 * A {@link MigrationBackend} over Redis keyspaces (`RedisTarget`). Batches come from SCAN with
 * `MATCH keyPattern` and `COUNT` = batch size, and the SCAN cursor is the checkpoint. Writes are one
 * Lua compare-and-set per batch that keeps each key's TTL.
 */
export function createRedisBackend(options: RedisBackendOptions): MigrationBackend {
  const { redis } = options;
  if (redis.options.keyPrefix) {
    throw new Error(`the redis client has keyPrefix "${redis.options.keyPrefix}"; SCAN ignores it, so use a client without keyPrefix and put the prefix in keyPattern`);
  }
  const problems = options.registry ? targetKindProblems(options.registry.all(), redisTargetKind) : [];
  if (problems.length) throw new MigrationDefinitionError(problems);
  const store = options.store ?? createRedisControlStore(redis, { prefix: options.controlPrefix ?? 'zdm:' });
  const keyspace = (def: MigrationDefinition) => (relocates(def) ? new RelocatingKeyspace(redis, def, options) : new RedisKeyspace(redis, def, options));

  return {
    store,
    async counts(def): Promise<DataCounts> {
      const ks = keyspace(def);
      const below = new Set<string>();
      const old = new Set<string>();
      // Read as the contract job sees items, so an old key left beside a new one counts as old fields.
      for await (const page of ks.items('contract')) {
        for (const item of page) {
          if (item.malformed || item.version < def.to) below.add(item.id);
          if (!item.malformed && hasOldFields(def, item)) old.add(item.id);
        }
      }
      return { belowTarget: below.size, withOldFields: old.size, quarantined: await store.quarantine.count(def.id) };
    },
    target(def, job) {
      return keyspace(def).jobTarget(job, remainingFor(def, job));
    },
    async sample(def, size) {
      const found = new Map<string, Doc>();
      for await (const page of keyspace(def).items('backfill', Math.max(size, 100))) {
        for (const item of page) if (!item.malformed && item.version === def.from && found.size < size) found.set(item.id, item.doc);
        if (found.size >= size) break;
      }
      return [...found].map(([id, doc]) => ({ id, doc }));
    },
    unexpandStep(def) {
      return relocates(def) ? relocateUnexpandStep(def) : redisUnexpandStep(def);
    },
    contractStep(def) {
      return relocates(def) ? relocateContractStep(def) : contractStep(def);
    },
  };
}

/**
 * Rollback before contract. In key-name mode the old key is still there (writers kept writing it),
 * so it is kept byte for byte and only the newer key goes; without an old key, the new value minus
 * the added fields is written back under the old name. In value mode: the added fields are dropped.
 */
function redisUnexpandStep(def: MigrationDefinition): (item: TargetItem) => Step {
  const fallback = unexpandStep(def);
  if (def.target.kind !== redisTargetKind.kind || def.target['versioning'] !== 'key-name') return fallback;
  return (item) => {
    const old = (item.cas as RedisCas).slots.find((s) => s.version === def.from && s.doc);
    if (item.version < def.to || !old?.doc) return fallback(item);
    return { kind: 'write', doc: old.doc, version: def.from };
  };
}
