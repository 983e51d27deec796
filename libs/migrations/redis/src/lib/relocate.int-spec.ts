import type Redis from 'ioredis';
import { MigrationRegistry, Migrator, Phase } from '@zdm/migrations-core';
import { maxExpiryDelta, relocatedKeys, relocationMigration, seedTokens, tokenV1 } from '../test/relocation.fixture';
import { startTestRedis, TestRedis } from '../test/redis-server.fixture';
import { createRedisBackend } from './redis.backend';

const who = { actor: 'test', reason: 'integration test' };
const throttle = { initialBatchSize: 100, minBatchSize: 100, maxBatchSize: 100 };
const KEYS = 1_000;

jest.setTimeout(60_000);

describe('a relocate migration: JSON strings moved to hashes under new names, with an index set and a pointer (redis-server)', () => {
  let server: TestRedis;
  let redis: Redis;
  let suite = 0;

  beforeAll(async () => {
    server = await startTestRedis('relocate');
    redis = server.client();
  });
  afterAll(() => server.stop());

  function setup(options: { reversible?: boolean } = {}) {
    const prefix = `${server.prefix}${++suite}:`;
    const def = relocationMigration(prefix, options);
    const registry = MigrationRegistry.create([def]);
    const backend = createRedisBackend({ redis, controlPrefix: `${prefix}zdm:`, registry });
    const migrator = new Migrator({ registry, backend, throttle, leaseTtlMs: 5_000, owner: 'test-runner' });
    const setPhase = async (phase: Phase) => {
      const state = await migrator.phaseMachine.state(def.id);
      expect(await migrator.store.state.save({ ...state, phase }, state.revision)).toBe(true);
    };
    return { prefix, keys: relocatedKeys(prefix), def, backend, migrator, setPhase };
  }

  async function movedExpiries(keys: ReturnType<typeof relocatedKeys>, expiries: Map<string, number>): Promise<Map<string, number>> {
    const moved = new Map<string, number>();
    for (const [oldKey, at] of expiries) {
      const i = Number(oldKey.slice(keys.old('').length));
      moved.set(keys.moved(tokenV1(i).owner, i), at);
    }
    return moved;
  }

  it('moves every value to its new key as a hash with its TTL (within 1 s), adds index members and pointers, keeps the old keys, and a second run writes nothing', async () => {
    const { prefix, keys, def, backend, migrator } = setup();
    const expiries = await seedTokens(redis, prefix, KEYS);
    const before = await redis.get(keys.old(7));
    expect(await backend.counts(def)).toEqual({ belowTarget: KEYS, withOldFields: 0, quarantined: 0 });

    const result = await migrator.run(def.id, 'backfill');
    expect(result.checkpoint).toMatchObject({ processed: KEYS, written: KEYS, conflicts: 0, quarantined: 0, done: true });
    expect(await backend.counts(def)).toEqual({ belowTarget: 0, withOldFields: KEYS, quarantined: 0 });
    expect(await redis.type(keys.moved('u7', 7))).toBe('hash');
    expect(await redis.hgetall(keys.moved('u7', 7))).toEqual({ owner: 'u7', n: '7', tags: 't1 x' });
    expect(await redis.get(keys.old(7))).toBe(before);
    expect(await redis.get(keys.pointer(7))).toBe('u7');
    expect((await redis.smembers(keys.index('u7'))).length).toBe(Math.ceil((KEYS - 7) / 17));
    // Moved keys, pointers and old keys expire when the old key did; index sets when their last member does.
    const moved = await movedExpiries(keys, expiries);
    const pointers = new Map([...expiries].map(([k, at]) => [keys.pointer(k.slice(keys.old('').length)), at]));
    const deltas = { old: await maxExpiryDelta(redis, expiries), moved: await maxExpiryDelta(redis, moved), pointers: await maxExpiryDelta(redis, pointers) };
    console.log(`relocate backfill of ${KEYS} keys: max expiry delta ${JSON.stringify(deltas)} ms`);
    expect(Math.max(...Object.values(deltas))).toBeLessThanOrEqual(1_000);
    // An index set lives as long as its longest-lived member: without expiry when one has none.
    const indexes = new Map<string, number>();
    for (const [k, at] of expiries) {
      const index = keys.index(tokenV1(Number(k.slice(keys.old('').length))).owner);
      const seen = indexes.get(index);
      indexes.set(index, seen === -1 || at === -1 ? -1 : Math.max(seen ?? 0, at));
    }
    expect([...indexes.values()].filter((at) => at === -1).length).toBeGreaterThan(0);
    expect([...indexes.values()].filter((at) => at !== -1).length).toBeGreaterThan(0);
    expect(await maxExpiryDelta(redis, indexes)).toBeLessThanOrEqual(1_000);

    await migrator.store.leases.resetCheckpoint(`${def.id}:backfill`);
    const again = await migrator.run(def.id, 'backfill');
    expect(again.checkpoint).toMatchObject({ written: 0, skipped: KEYS });
  });

  it('never overwrites a concurrent write or brings back a deleted item while it backfills', async () => {
    const { prefix, keys, def, migrator } = setup();
    await seedTokens(redis, prefix, KEYS);
    const writer = redis.duplicate();
    const deleted = new Set<number>();
    const last = new Map<number, number>();
    let writing = true;
    // A dual-writing application: rewrites both shapes of random items, or deletes both with their companions.
    const load = (async () => {
      for (let n = 1; writing; n++) {
        const i = Math.floor(Math.random() * KEYS);
        const { owner } = tokenV1(i);
        if (n % 7 === 0) {
          await writer.multi().del(keys.old(i), keys.moved(owner, i), keys.pointer(i)).srem(keys.index(owner), String(i)).exec();
          deleted.add(i);
          last.delete(i);
        } else if (!deleted.has(i)) {
          const doc = { ...tokenV1(i), n: 100_000 + n };
          await writer
            .multi()
            .set(keys.old(i), JSON.stringify(doc), 'KEEPTTL')
            .del(keys.moved(owner, i))
            .hset(keys.moved(owner, i), def.up(doc) as Record<string, string>)
            .sadd(keys.index(owner), String(i))
            .set(keys.pointer(i), owner)
            .exec();
          last.set(i, 100_000 + n);
        }
      }
    })();
    const result = await migrator.run(def.id, 'backfill', { onBatch: (e) => e.batch === 1 && undefined });
    writing = false;
    await load;
    writer.disconnect();
    expect(result.status).toBe('done');
    expect(deleted.size).toBeGreaterThan(0);
    for (const i of deleted) {
      expect(await redis.exists(keys.old(i), keys.moved(tokenV1(i).owner, i))).toBe(0);
    }
    for (const [i, n] of last) expect(await redis.hget(keys.moved(tokenV1(i).owner, i), 'n')).toBe(String(n));
    for (let i = 0; i < KEYS; i++) {
      if (deleted.has(i)) continue;
      const old = JSON.parse((await redis.get(keys.old(i))) ?? 'null');
      expect(await redis.hgetall(keys.moved(tokenV1(i).owner, i))).toEqual(def.up(old));
    }
  });

  it('quarantines what cannot be moved with the reason and migrates the rest', async () => {
    const { prefix, keys, def, migrator, backend } = setup();
    await seedTokens(redis, prefix, 50);
    await redis.set(keys.old('text'), 'not json{');
    await redis.set(keys.old('noowner'), '{"n":1,"tags":[]}');
    await redis.set(keys.old('badtags'), '{"owner":"u1","n":1,"tags":"a"}');
    await redis.hset(keys.old('hash'), 'owner', 'u1');
    await redis.set(keys.moved('u2', 'wrongtype'), 'x');
    await redis.set(keys.old('wrongtype'), '{"owner":"u2","n":1,"tags":[]}');
    const result = await migrator.run(def.id, 'backfill');
    expect(result.checkpoint).toMatchObject({ written: 50 });
    const reasons = Object.fromEntries((await migrator.quarantined(def.id)).map((e) => [e.docId.slice(prefix.length), e.reason]));
    expect(reasons).toEqual({
      's:text': expect.stringMatching(/^value is not JSON/),
      's:noowner': 'its new key cannot be named: owner is missing',
      's:badtags': 'up threw: tags is not a list',
      's:hash': `key ${keys.old('hash')} holds a hash, not a JSON string`,
      's:wrongtype': `key ${keys.moved('u2', 'wrongtype')} holds a string, not a hash`,
    });
    expect(await backend.counts(def)).toMatchObject({ belowTarget: 5, quarantined: 5 });
  });

  it('verifies the moved keys, contracts by deleting the old keys, and rolls back past contract with down(), TTLs kept', async () => {
    const { prefix, keys, def, backend, migrator, setPhase } = setup();
    const expiries = await seedTokens(redis, prefix, 300);
    await migrator.run(def.id, 'backfill');
    const { report } = await migrator.verify(def.id);
    expect(report).toMatchObject({ checked: 300, mismatches: 0 });
    const contracted = await migrator.run(def.id, 'contract');
    expect(contracted.checkpoint).toMatchObject({ written: 300, quarantined: 0 });
    expect(await backend.counts(def)).toEqual({ belowTarget: 0, withOldFields: 0, quarantined: 0 });
    expect(await redis.exists(keys.old(5))).toBe(0);
    expect(await maxExpiryDelta(redis, await movedExpiries(keys, expiries))).toBeLessThanOrEqual(1_000);

    await setPhase('contract');
    const rolled = await migrator.rollback(def.id, who);
    expect(rolled?.status).toBe('done');
    expect(JSON.parse((await redis.get(keys.old(5))) ?? '')).toEqual(tokenV1(5));
    expect(await redis.exists(keys.moved('u5', 5), keys.pointer(5))).toBe(0);
    expect(await redis.exists(keys.index('u5'))).toBe(0);
    expect(await backend.counts(def)).toMatchObject({ belowTarget: 300, withOldFields: 0 });
    expect(await maxExpiryDelta(redis, expiries)).toBeLessThanOrEqual(1_000);
  });

  it('reports in verify an item whose old copy no longer upcasts to its moved one', async () => {
    const { prefix, keys, def, migrator } = setup();
    await seedTokens(redis, prefix, 100);
    await migrator.run(def.id, 'backfill');
    // An old-build write after the move, which a dual-writing build would have made to both keys.
    await redis.set(keys.old(8), JSON.stringify({ ...tokenV1(8), n: 80 }), 'KEEPTTL');
    const { report } = await migrator.verify(def.id);
    expect(report).toMatchObject({ checked: 100, mismatches: 1 });
    const [entry] = await migrator.quarantined(def.id);
    expect(entry).toMatchObject({ docId: keys.moved('u8', 8), reason: expect.stringMatching(/^the v1 and v2 copies disagree: up\(v1\) is \{"n":"80",.*v2 holds \{"n":"8",/) });
  });

  it('rolls back before contract by dropping the moved keys and their companions, leaving the old keys byte for byte', async () => {
    const { prefix, keys, def, migrator, setPhase } = setup();
    const expiries = await seedTokens(redis, prefix, 200);
    const before = await redis.mget([...expiries.keys()]);
    await migrator.run(def.id, 'backfill');
    await setPhase('backfill');
    expect((await migrator.rollback(def.id, who))?.status).toBe('done');
    expect(await redis.mget([...expiries.keys()])).toEqual(before);
    expect(await redis.exists(keys.moved('u3', 3), keys.pointer(3), keys.index('u3'))).toBe(0);
    expect(await maxExpiryDelta(redis, expiries)).toBeLessThanOrEqual(1_000);
  });

  it('refuses an irreversible relocation past contract, saying why', async () => {
    const { prefix, def, migrator, setPhase } = setup({ reversible: false });
    await seedTokens(redis, prefix, 10);
    await migrator.run(def.id, 'backfill');
    await setPhase('contract');
    await expect(migrator.rollback(def.id, who)).rejects.toThrow(/irreversible: it has no down\(\)/);
  });
});
