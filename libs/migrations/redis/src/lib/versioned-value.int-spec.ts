import type Redis from 'ioredis';
import { MigrationRegistry } from '@zdm/migrations-core';
import { sessionMigration } from '../test/sessions.fixture';
import { startTestRedis, TestRedis } from '../test/redis-server.fixture';
import { versionedGet, versionedSet } from './versioned-value';

describe('versionedGet / versionedSet (redis-server)', () => {
  let server: TestRedis;
  let redis: Redis;
  let n = 0;

  beforeAll(async () => {
    server = await startTestRedis('versioned-value');
    redis = server.client();
  });
  afterAll(() => server.stop());

  const keyspace = (versioning: 'value' | 'key-name') => {
    const prefix = `${server.prefix}${++n}:`;
    const registry = MigrationRegistry.create([sessionMigration(prefix, versioning)]);
    return { prefix, registry, key: `${prefix}s:1` };
  };

  describe('in value versioning', () => {
    it('upcasts a v1 value on read and returns a v2 value as stored', async () => {
      const { registry, key } = keyspace('value');
      await redis.set(key, '{"firstName":"Ada","lastName":"Lovelace"}');
      expect(await versionedGet(redis, key, { registry, readMax: 2 })).toEqual({
        key,
        storedVersion: 1,
        doc: { firstName: 'Ada', lastName: 'Lovelace', fullName: 'Ada Lovelace' },
      });
      expect(await versionedGet(redis, key, { registry, readMax: 1 })).toMatchObject({ doc: { firstName: 'Ada', lastName: 'Lovelace' } });
      await redis.set(key, '{"fullName":"Grace Hopper","_v":2}');
      expect(await versionedGet(redis, key, { registry, readMax: 2 })).toEqual({ key, storedVersion: 2, doc: { fullName: 'Grace Hopper' } });
      expect(await versionedGet(redis, `${key}-missing`, { registry, readMax: 2 })).toBeNull();
    });

    it('fails loudly on a value newer than the build reads, or one that is not a JSON object', async () => {
      const { registry, key } = keyspace('value');
      await redis.set(key, '{"fullName":"x","_v":3}');
      await expect(versionedGet(redis, key, { registry, readMax: 2 })).rejects.toThrow(`${key} holds version 3, but this build reads up to v2`);
      await redis.set(key, '{"fullName":"x","_v":2}');
      await expect(versionedGet(redis, key, { registry, readMax: 1 })).rejects.toThrow(/holds version 2, but this build reads up to v1/);
      await redis.set(key, 'oops');
      await expect(versionedGet(redis, key, { registry, readMax: 2 })).rejects.toThrow(`${key}: value is not JSON`);
    });

    it('stamps the write version, keeps the TTL unless one is given, and refuses versions the build does not know', async () => {
      const { registry, key } = keyspace('value');
      await redis.set(key, '{}', 'PX', 60_000);
      await versionedSet(redis, key, { firstName: 'A', lastName: 'B', fullName: 'A B' }, { registry, writeVersion: 2 });
      expect(await redis.get(key)).toBe('{"firstName":"A","lastName":"B","fullName":"A B","_v":2}');
      expect(await redis.pttl(key)).toBeGreaterThan(58_000);
      await versionedSet(redis, key, { firstName: 'A', lastName: 'B' }, { registry, writeVersion: 1, ttlMs: 5_000 });
      expect(await redis.get(key)).toBe('{"firstName":"A","lastName":"B"}');
      expect(await redis.pttl(key)).toBeLessThanOrEqual(5_000);
      await expect(versionedSet(redis, key, {}, { registry, writeVersion: 3 })).rejects.toThrow(/cannot write .* at version 3: this build knows versions 1..2/);
      await expect(versionedSet(redis, key, {}, { registry, writeVersion: 0 })).rejects.toThrow(/at version 0/);
    });
  });

  describe('in key-name versioning', () => {
    it('reads the newest version key first, then the older one, upcasting what it finds', async () => {
      const { registry, key } = keyspace('key-name');
      await redis.set(key, '{"firstName":"Ada","lastName":"Lovelace"}');
      expect(await versionedGet(redis, key, { registry, readMax: 2 })).toMatchObject({ key, storedVersion: 1, doc: { fullName: 'Ada Lovelace' } });
      await redis.set(`${key}:v2`, '{"fullName":"Ada King"}');
      expect(await versionedGet(redis, key, { registry, readMax: 2 })).toEqual({ key: `${key}:v2`, storedVersion: 2, doc: { fullName: 'Ada King' } });
      await expect(versionedGet(redis, key, { registry, readMax: 1 })).rejects.toThrow(`${key}:v2 holds version 2, but this build reads up to v1`);
      await redis.set(`${key}:v3`, '{}');
      await expect(versionedGet(redis, key, { registry, readMax: 2 })).rejects.toThrow(`${key}:v3 holds version 3`);
    });

    it('dual-writes both keys with the old one lacking the added fields, keeping the existing TTL', async () => {
      const { registry, key } = keyspace('key-name');
      await redis.set(key, '{"firstName":"A","lastName":"B"}', 'PX', 60_000);
      await versionedSet(redis, key, { firstName: 'C', lastName: 'D', fullName: 'C D' }, { registry, writeVersion: 2, writeOld: true });
      expect(await redis.get(`${key}:v2`)).toBe('{"firstName":"C","lastName":"D","fullName":"C D"}');
      expect(await redis.get(key)).toBe('{"firstName":"C","lastName":"D"}');
      for (const k of [key, `${key}:v2`]) expect(await redis.pttl(k)).toBeGreaterThan(58_000);
    });

    it('deletes the other version keys when writing one form, so a stale key never shadows it', async () => {
      const { registry, key } = keyspace('key-name');
      await versionedSet(redis, key, { firstName: 'C', lastName: 'D', fullName: 'C D' }, { registry, writeVersion: 2, writeOld: true });
      // After a rollback the build writes v1 only: the v2 key must go, or readers would still see it.
      await versionedSet(redis, key, { firstName: 'E', lastName: 'F' }, { registry, writeVersion: 1, ttlMs: 30_000 });
      expect(await redis.exists(`${key}:v2`)).toBe(0);
      expect(await versionedGet(redis, key, { registry, readMax: 2 })).toMatchObject({ storedVersion: 1, doc: { fullName: 'E F' } });
      // After contract the build writes v2 only: the old key goes.
      await versionedSet(redis, key, { fullName: 'G H' }, { registry, writeVersion: 2 });
      expect(await redis.exists(key)).toBe(0);
      expect(await redis.pttl(`${key}:v2`)).toBeGreaterThan(28_000);
    });
  });

  it('says which key has no registered pattern, and asks for keyPattern when several match', async () => {
    const { registry } = keyspace('value');
    await expect(versionedGet(redis, 'elsewhere:1', { registry, readMax: 2 })).rejects.toThrow('no registered redis migration has a key pattern matching elsewhere:1');
    const narrow = sessionMigration(`${server.prefix}amb:`, 'value');
    const wide = { ...narrow, id: 'sessions.other', target: { kind: 'redis' as const, keyPattern: `${server.prefix}amb:*`, versioning: 'value' as const } };
    const both = MigrationRegistry.create([narrow, wide]);
    const key = `${server.prefix}amb:s:1`;
    await expect(versionedGet(redis, key, { registry: both, readMax: 2 })).rejects.toThrow(/matches several key patterns .*; pass keyPattern/);
    await redis.set(key, '{"firstName":"a","lastName":"b"}');
    expect(await versionedGet(redis, key, { registry: both, readMax: 2, keyPattern: wide.target.keyPattern })).toMatchObject({ storedVersion: 1 });
  });
});
