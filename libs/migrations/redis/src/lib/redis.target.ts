import { MigrationTarget, TargetKind } from '@zdm/migrations-core';

/** A Redis keyspace migrated by this adapter: `{ kind: 'redis', keyPattern, versioning }`. */
export interface RedisTarget extends MigrationTarget {
  kind: 'redis';
  /** SCAN MATCH pattern of the keys this migration owns, e.g. `session:*`. */
  keyPattern: string;
  /**
   * How the version is carried: `value` keeps `_v` inside the JSON value;
   * `key-name` puts the version in the key (`<base>:v2`), and readers try the new key first.
   */
  versioning: 'value' | 'key-name';
}

const VERSIONINGS: readonly unknown[] = ['value', 'key-name'] satisfies RedisTarget['versioning'][];

/** The redis adapter's targets, and what makes one valid. */
export const redisTargetKind: TargetKind<RedisTarget> = {
  kind: 'redis',
  problems: (target) => [
    ...(typeof target['keyPattern'] === 'string' && target['keyPattern'] ? [] : ['target.keyPattern is required']),
    ...(VERSIONINGS.includes(target['versioning']) ? [] : [`target.versioning must be "value" or "key-name", got ${JSON.stringify(target['versioning'])}`]),
  ],
};
