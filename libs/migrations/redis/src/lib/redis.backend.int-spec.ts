import type Redis from 'ioredis';
import { JobTarget, MigrationDefinition, MigrationRegistry, Migrator, Phase, TargetItem } from '@zdm/migrations-core';
import { seedSessions, sessionKey, sessionMigration, sessionV1, expiryDrift } from '../test/sessions.fixture';
import { startTestRedis, TestRedis } from '../test/redis-server.fixture';
import { createRedisBackend } from './redis.backend';
import { versionedGet, versionedSet } from './versioned-value';

type Versioning = 'value' | 'key-name';
const who = { actor: 'test', reason: 'integration test' };
const throttle = { initialBatchSize: 200, minBatchSize: 200, maxBatchSize: 200 };

describe('createRedisBackend (redis-server)', () => {
  let server: TestRedis;
  let redis: Redis;
  let suite = 0;

  beforeAll(async () => {
    server = await startTestRedis('backend');
    redis = server.client();
  });
  afterAll(() => server.stop());

  /** A fresh keyspace and control prefix per test. */
  function setup(versioning: Versioning, options: { reversible?: boolean; wrap?: (t: JobTarget, registry: MigrationRegistry) => JobTarget } = {}) {
    const prefix = `${server.prefix}${++suite}:`;
    const def = sessionMigration(prefix, versioning, options);
    const registry = MigrationRegistry.create([def]);
    const base = createRedisBackend({ redis, controlPrefix: `${prefix}zdm:` });
    const wrap = options.wrap;
    const backend = wrap ? { ...base, target: (d: MigrationDefinition, job: Parameters<typeof base.target>[1]) => wrap(base.target(d, job), registry) } : base;
    const migrator = new Migrator({ registry, backend, throttle, leaseTtlMs: 5_000, owner: 'test-runner' });
    const read = (i: number) => versionedGet(redis, sessionKey(prefix, i), { registry, readMax: 2 });
    const setPhase = async (phase: Phase) => {
      const state = await migrator.phaseMachine.state(def.id);
      expect(await migrator.store.state.save({ ...state, phase }, state.revision)).toBe(true);
    };
    return { prefix, def, registry, backend, migrator, read, setPhase };
  }

  async function snapshot(prefix: string): Promise<Map<string, string>> {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}s:*`, 'COUNT', 1000);
      cursor = next;
      keys.push(...found);
    } while (cursor !== '0');
    const values = keys.length ? await redis.mgetBuffer(keys) : [];
    return new Map(keys.map((k, i) => [k, values[i]?.toString('base64') ?? '<not a string>']));
  }

  describe.each<Versioning>(['value', 'key-name'])('in %s versioning', (versioning) => {
    it('backfills every v1 value to v2 with the old fields kept, each TTL kept, and a second run writes nothing', async () => {
      const { prefix, def, backend, migrator, read } = setup(versioning);
      const expiries = await seedSessions(redis, prefix, 2_000);
      const before = await snapshot(prefix);
      expect(await backend.counts(def)).toEqual({ belowTarget: 2_000, withOldFields: 2_000, quarantined: 0 });

      const result = await migrator.run(def.id, 'backfill');
      expect(result.status).toBe('done');
      expect(result.checkpoint).toMatchObject({ processed: 2_000, written: 2_000, conflicts: 0, quarantined: 0, done: true });
      expect(await backend.counts(def)).toEqual({ belowTarget: 0, withOldFields: 2_000, quarantined: 0 });
      for (const i of [0, 1, 777, 1_999]) {
        expect(await read(i)).toMatchObject({ storedVersion: 2, doc: { ...sessionV1(i), fullName: `f${i} l${i}` } });
      }
      expect(await expiryDrift(redis, expiries, 1_000)).toEqual([]);
      if (versioning === 'key-name') {
        // The old keys are left byte for byte for old readers and rollback; v2 keys take their TTL.
        const after = await snapshot(prefix);
        for (const [k, v] of before) expect(after.get(k)).toBe(v);
        const v2 = new Map([...expiries].map(([k, e]) => [`${k}:v2`, e]));
        expect(await expiryDrift(redis, v2, 1_000)).toEqual([]);
      }

      await migrator.store.leases.resetCheckpoint(`${def.id}:backfill`);
      const again = await migrator.run(def.id, 'backfill');
      expect(again.checkpoint).toMatchObject({ written: 0, skipped: 2_000 });
    });

    it('refuses a second write of the same read as a conflict, so a repeated batch never applies stale data', async () => {
      const { prefix, def, backend } = setup(versioning);
      await seedSessions(redis, prefix, 50);
      const target = backend.target(def, 'backfill');
      const batch = await target.readBatch(null, 100);
      const changes = batch.items.map((item) => ({ item, doc: def.up(item.doc), version: 2 }));
      expect((await target.writeBatch(changes)).conflicts).toEqual([]);
      expect((await target.writeBatch(changes)).conflicts.sort()).toEqual(batch.items.map((i) => i.id).sort());
    });

    it('keeps every write made between the runner reading a batch and writing it, and retries with the fresh value', async () => {
      const written = new Map<string, { n: number; version: number }>();
      let n = 0;
      const interfere = (t: JobTarget, registry: MigrationRegistry): JobTarget => ({
        ...t,
        readBatch: async (cursor, limit) => {
          const batch = await t.readBatch(cursor, limit);
          // An old-build writer and a dual-writer update two keys the runner has just read.
          for (const [j, item] of batch.items.slice(0, 2).entries()) {
            const i = Number(item.id.split(':').pop());
            const version = j === 0 ? 1 : 2;
            const doc = version === 1 ? { ...sessionV1(i), n: ++n } : { ...sessionV1(i), fullName: `f${i} l${i}`, n: ++n };
            await versionedSet(redis, item.id, doc, { registry, writeVersion: version, writeOld: true });
            written.set(item.id, { n, version });
          }
          return batch;
        },
      });
      const { prefix, def, registry, migrator, backend } = setup(versioning, { wrap: interfere });
      const expiries = await seedSessions(redis, prefix, 1_000);
      const result = await migrator.run(def.id, 'backfill');
      expect(result.status).toBe('done');
      expect(written.size).toBeGreaterThanOrEqual(8);
      expect(result.checkpoint.conflicts).toBeGreaterThan(0);
      for (const [key, { n: last }] of written) {
        const value = await versionedGet(redis, key, { registry, readMax: 2 });
        expect(value).toMatchObject({ storedVersion: 2, doc: { n: last, fullName: expect.any(String) } });
      }
      expect((await backend.counts(def)).belowTarget).toBe(0);
      expect(await expiryDrift(redis, expiries, 1_000)).toEqual([]);
    });

    it('rolls back before contract to the exact bytes stored before the migration', async () => {
      const { prefix, def, migrator, setPhase } = setup(versioning);
      const expiries = await seedSessions(redis, prefix, 1_000);
      const before = await snapshot(prefix);
      await migrator.run(def.id, 'backfill');
      expect(await snapshot(prefix)).not.toEqual(before);
      await setPhase('backfill');

      const result = await migrator.rollback(def.id, who);
      expect(result?.status).toBe('done');
      expect(await snapshot(prefix)).toEqual(before);
      expect(await expiryDrift(redis, expiries, 1_000)).toEqual([]);
      expect((await migrator.phaseMachine.state(def.id)).phase).toBe('rolled-back');
    });

    it('verifies, contracts, and rolls back past contract with down() to the old shape', async () => {
      const { prefix, def, backend, migrator, read, setPhase } = setup(versioning);
      const expiries = await seedSessions(redis, prefix, 1_000);
      await migrator.run(def.id, 'backfill');
      const { report, roundTrip } = await migrator.verify(def.id);
      expect(report).toMatchObject({ checked: 1_000, mismatches: 0 });
      expect(roundTrip.reversible).toBe(true);

      const contracted = await migrator.run(def.id, 'contract');
      expect(contracted.checkpoint).toMatchObject({ written: 1_000, quarantined: 0 });
      expect(await backend.counts(def)).toEqual({ belowTarget: 0, withOldFields: 0, quarantined: 0 });
      expect((await read(5))?.doc).toEqual({ fullName: 'f5 l5' });
      if (versioning === 'key-name') expect(await redis.exists(sessionKey(prefix, 5))).toBe(0);

      await setPhase('contract');
      const result = await migrator.rollback(def.id, who);
      expect(result?.status).toBe('done');
      expect(await backend.counts(def)).toMatchObject({ belowTarget: 1_000 });
      for (const i of [0, 5, 999]) expect(await read(i)).toMatchObject({ storedVersion: 1, doc: sessionV1(i) });
      expect(await expiryDrift(redis, expiries, 1_000)).toEqual([]);
      if (versioning === 'key-name') expect(await redis.exists(`${sessionKey(prefix, 5)}:v2`)).toBe(0);
    });

    it('quarantines undecodable values and values up() rejects with their reasons, migrates the rest, and clears them once fixed', async () => {
      const { prefix, def, backend, migrator } = setup(versioning);
      await seedSessions(redis, prefix, 500);
      const bad: Record<string, string | Buffer> = {
        [`${prefix}s:text`]: 'not json{',
        [`${prefix}s:array`]: '[1,2]',
        [`${prefix}s:noname`]: '{"lastName":"x"}',
        [`${prefix}s:binary`]: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]),
      };
      if (versioning === 'value') bad[`${prefix}s:badv`] = '{"firstName":"a","lastName":"b","_v":"two"}';
      for (const [k, v] of Object.entries(bad)) await redis.set(k, v);
      await redis.hset(`${prefix}s:hash`, 'firstName', 'a');

      const result = await migrator.run(def.id, 'backfill');
      expect(result.status).toBe('done');
      const reasons = Object.fromEntries((await migrator.quarantined(def.id)).map((e) => [e.docId.slice(prefix.length), e.reason]));
      expect(reasons).toEqual({
        's:text': expect.stringMatching(/^value is not JSON/),
        's:array': 'value is JSON array, not an object',
        's:noname': 'up threw: firstName is missing',
        's:binary': 'value is not valid UTF-8',
        's:hash': `key ${prefix}s:hash holds a hash, not a JSON string`,
        ...(versioning === 'value' ? { 's:badv': '_v is "two", not an integer >= 1' } : {}),
      });
      const counts = await backend.counts(def);
      expect(counts).toMatchObject({ belowTarget: Object.keys(reasons).length, quarantined: Object.keys(reasons).length });
      const status = await migrator.status(def.id);
      expect(status.counts.quarantined).toBe(Object.keys(reasons).length);

      for (const k of Object.keys(bad)) await redis.set(k, JSON.stringify({ firstName: 'fixed', lastName: 'value' }));
      await redis.del(`${prefix}s:hash`);
      const retried = await migrator.retryQuarantined(def.id, who);
      expect(retried.still).toEqual([]);
      expect(retried.fixed).toHaveLength(Object.keys(reasons).length);
      expect(await backend.counts(def)).toMatchObject({ belowTarget: 0, quarantined: 0 });
    });
  });

  it('refuses to roll an irreversible migration back past contract and says why', async () => {
    const { prefix, def, migrator, setPhase } = setup('value', { reversible: false });
    await seedSessions(redis, prefix, 10);
    await migrator.run(def.id, 'backfill');
    await setPhase('contract');
    await expect(migrator.rollback(def.id, who)).rejects.toThrow(/irreversible: it has no down\(\)/);
  });

  it('samples v1 values for round-trip checks and plans', async () => {
    const { prefix, def, backend, migrator } = setup('key-name');
    await seedSessions(redis, prefix, 300);
    const sample = await backend.sample(def, 50);
    expect(sample).toHaveLength(50);
    expect(new Set(sample.map((s) => s.id)).size).toBe(50);
    const [plan] = await migrator.plan([def.id]);
    expect(plan).toMatchObject({ affected: 300, total: 300, reversible: true });
  });

  it('rejects a client with a keyPrefix, whose prefix SCAN would not apply', () => {
    const prefixed = server.client();
    prefixed.options.keyPrefix = 'app:';
    expect(() => createRedisBackend({ redis: prefixed })).toThrow(/keyPrefix "app:"/);
  });

  it('items come back once per id even when SCAN repeats keys', async () => {
    const { prefix, def, backend } = setup('key-name');
    await seedSessions(redis, prefix, 5);
    await redis.set(`${sessionKey(prefix, 1)}:v2`, JSON.stringify({ ...sessionV1(1), fullName: 'f1 l1' }));
    const items: TargetItem[] = await backend.target(def, 'backfill').reread([sessionKey(prefix, 1), sessionKey(prefix, 1), sessionKey(prefix, 2)]);
    expect(items.map((i) => [i.id.slice(prefix.length), i.version])).toEqual([
      ['s:1', 2],
      ['s:2', 1],
    ]);
  });
});
