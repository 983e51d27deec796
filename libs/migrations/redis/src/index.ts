export { redisTargetKind, type RedisTarget, type KeyRelocation, type Companion } from './lib/redis.target';
export { hashFieldsOf } from './lib/relocating-keyspace';
export { createRedisBackend, type RedisBackendOptions } from './lib/redis.backend';
export { createRedisControlStore, type RedisControlStoreOptions } from './lib/redis-control.store';
export { versionedGet, versionedSet, type VersionedGetOptions, type VersionedSetOptions, type VersionedValue } from './lib/versioned-value';
export { versionedKey, parseVersionedKey } from './lib/key-naming';
export type { KeyspaceOptions } from './lib/keyspace.target';
