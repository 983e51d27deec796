import { fullNameMigration } from '@zdm/migrations-core/testing';
import { MigrationDefinitionError, MigrationRegistry } from '@zdm/migrations-core';
import Redis from 'ioredis';
import { createRedisBackend } from './redis.backend';
import { redisTargetKind } from './redis.target';

describe('redis targets', () => {
  it('need a key pattern and a versioning', () => {
    expect(redisTargetKind.problems({ kind: 'redis', keyPattern: 's:*', versioning: 'key-name' })).toEqual([]);
    expect(redisTargetKind.problems({ kind: 'redis', keyPattern: '', versioning: 'values' })).toEqual([
      'target.keyPattern is required',
      'target.versioning must be "value", "key-name" or "relocate", got "values"',
    ]);
  });

  it('need a relocation, with its pattern, key functions and type, when they relocate', () => {
    const relocation = { keyPattern: 'n:{*}:*', type: 'hash', keyOf: () => 'n:{u}:1', oldKeyOf: () => null };
    expect(redisTargetKind.problems({ kind: 'redis', keyPattern: 's:*', versioning: 'relocate', relocation })).toEqual([]);
    expect(redisTargetKind.problems({ kind: 'redis', keyPattern: 's:*', versioning: 'relocate' })).toEqual(['target.relocation is required with versioning "relocate"']);
    expect(redisTargetKind.problems({ kind: 'redis', keyPattern: 's:*', versioning: 'relocate', relocation: { keyPattern: 's:*', type: 'list', companions: [] } })).toEqual([
      'target.relocation.keyPattern must differ from target.keyPattern',
      'target.relocation.keyOf must be a function',
      'target.relocation.oldKeyOf must be a function',
      'target.relocation.type must be "hash" or "string", got "list"',
      'target.relocation.companions must be a function',
    ]);
    expect(redisTargetKind.problems({ kind: 'redis', keyPattern: 's:*', versioning: 'value', relocation })).toEqual(['target.relocation is only read with versioning "relocate"']);
  });

  it('are checked when the backend is created, so a bad one fails at startup naming the migration', () => {
    // lazyConnect: the client never connects in this test.
    const redis = new Redis({ lazyConnect: true });
    const registry = new MigrationRegistry([fullNameMigration({ id: 'sessions.no-pattern', target: { kind: 'redis', keyPattern: '', versioning: 'value' } })]);
    expect(() => createRedisBackend({ redis, registry })).toThrow(MigrationDefinitionError);
    expect(() => createRedisBackend({ redis, registry })).toThrow('sessions.no-pattern: target.keyPattern is required');
    redis.disconnect();
  });
});
