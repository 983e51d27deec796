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
      'target.versioning must be "value" or "key-name", got "values"',
    ]);
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
