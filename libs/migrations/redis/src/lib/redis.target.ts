import { Doc, MigrationTarget, TargetKind } from '@zdm/migrations-core';

/** A key that goes with a moved key: a member of a set (an index) or a string (a pointer). */
export type Companion = { kind: 'set-member'; key: string; member: string } | { kind: 'string'; key: string; value: string };

/**
 * Where a `relocate` migration moves each item: from its JSON string at `from` to a new key at
 * `to`, whose name may depend on the document (e.g. `session:<sid>` -> `sess:{<userId>}:<sid>`).
 */
export interface KeyRelocation {
  /** SCAN MATCH pattern of the keys at `to`, e.g. `sess:{*}:*`. */
  keyPattern: string;
  /** The key an item moves to, from its key and document at `from`; throws (the item is quarantined with the reason) when the document does not say. */
  keyOf(oldKey: string, oldDoc: Doc): string;
  /** The key at `from` of a key at `to`; null when `newKey` is not a moved key (SCAN may find others). */
  oldKeyOf(newKey: string): string | null;
  /** How the value is stored at `to`: `hash` (one field per document field; every value a string) or `string` (JSON). */
  type: 'hash' | 'string';
  /**
   * Keys that go with a moved key: written with it (a set member is added, a string set, each kept
   * to at least the moved key's TTL) and removed with it on rollback.
   */
  companions?(newKey: string, doc: Doc): Companion[];
}

/** A Redis keyspace migrated by this adapter: `{ kind: 'redis', keyPattern, versioning }`. */
export interface RedisTarget extends MigrationTarget {
  kind: 'redis';
  /** SCAN MATCH pattern of the keys this migration owns (at `from` in `relocate` mode), e.g. `session:*`. */
  keyPattern: string;
  /**
   * How the version is carried: `value` keeps `_v` inside the JSON value;
   * `key-name` puts the version in the key (`<base>:v2`), and readers try the new key first;
   * `relocate` moves each item to the key (and type) `relocation` names, so the key is the version.
   */
  versioning: 'value' | 'key-name' | 'relocate';
  /** With `relocate`: where version `to` lives. */
  relocation?: KeyRelocation;
  /** Name in heartbeats, plans and status; default `keyPattern` (give one when the pattern carries a deployment prefix). */
  name?: string;
}

const VERSIONINGS: readonly unknown[] = ['value', 'key-name', 'relocate'] satisfies RedisTarget['versioning'][];

function relocationProblems(target: MigrationTarget): string[] {
  const relocation = target['relocation'] as Partial<KeyRelocation> | undefined;
  if (target['versioning'] !== 'relocate') return relocation === undefined ? [] : ['target.relocation is only read with versioning "relocate"'];
  if (!relocation || typeof relocation !== 'object') return ['target.relocation is required with versioning "relocate"'];
  return [
    ...(typeof relocation.keyPattern === 'string' && relocation.keyPattern ? [] : ['target.relocation.keyPattern is required']),
    ...(relocation.keyPattern === target['keyPattern'] ? ['target.relocation.keyPattern must differ from target.keyPattern'] : []),
    ...(typeof relocation.keyOf === 'function' ? [] : ['target.relocation.keyOf must be a function']),
    ...(typeof relocation.oldKeyOf === 'function' ? [] : ['target.relocation.oldKeyOf must be a function']),
    ...(relocation.type === 'hash' || relocation.type === 'string' ? [] : [`target.relocation.type must be "hash" or "string", got ${JSON.stringify(relocation.type)}`]),
    ...(relocation.companions === undefined || typeof relocation.companions === 'function' ? [] : ['target.relocation.companions must be a function']),
  ];
}

/** The redis adapter's targets, and what makes one valid. */
export const redisTargetKind: TargetKind<RedisTarget> = {
  kind: 'redis',
  problems: (target) => [
    ...(typeof target['keyPattern'] === 'string' && target['keyPattern'] ? [] : ['target.keyPattern is required']),
    ...(VERSIONINGS.includes(target['versioning']) ? [] : [`target.versioning must be "value", "key-name" or "relocate", got ${JSON.stringify(target['versioning'])}`]),
    ...(VERSIONINGS.includes(target['versioning']) ? relocationProblems(target) : []),
  ],
};
