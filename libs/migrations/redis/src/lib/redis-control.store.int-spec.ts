import type Redis from 'ioredis';
import { ControlStore, InstanceHeartbeat, Lease, MigrationState, emptyCheckpoint } from '@zdm/migrations-core';
import { startTestRedis, TestRedis } from '../test/redis-server.fixture';
import { createRedisControlStore } from './redis-control.store';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('createRedisControlStore (redis-server)', () => {
  let server: TestRedis;
  let redis: Redis;
  let store: ControlStore;

  beforeAll(async () => {
    server = await startTestRedis('control-store');
    redis = server.client();
    store = createRedisControlStore(redis, { prefix: `${server.prefix}zdm:` });
  });
  afterAll(() => server.stop());

  const acquired = async (job: string, owner: string, ttlMs: number): Promise<Lease> => {
    const lease = await store.leases.acquire(job, owner, ttlMs);
    if (!lease) throw new Error(`${owner} did not get ${job}`);
    return lease;
  };

  const state = (id: string, revision: number, phase: MigrationState['phase'] = 'expand'): MigrationState => ({
    id,
    phase,
    revision,
    checksum: 'abc',
    command: 'run',
    backfillDoneAt: new Date('2024-05-01T10:00:00Z'),
    verify: { at: new Date('2024-05-02T10:00:00Z'), checked: 3, mismatches: 0, shadowMismatches: 0 },
    updatedAt: new Date('2024-05-03T10:00:00Z'),
  });

  it('saves a state only when the expected revision matches, and bumps the revision by one', async () => {
    expect(await store.state.save(state('m.a', 0), 0)).toBe(true);
    expect(await store.state.save(state('m.a', 0, 'dual-write'), 0)).toBe(false);
    expect(await store.state.save(state('m.a', 1, 'dual-write'), 1)).toBe(true);
    const loaded = await store.state.load('m.a');
    expect(loaded).toMatchObject({ phase: 'dual-write', revision: 2 });
    expect(loaded?.verify?.at).toEqual(new Date('2024-05-02T10:00:00Z'));
    expect(loaded?.updatedAt).toBeInstanceOf(Date);
    expect(await store.state.load('m.unknown')).toBeNull();
    expect((await store.state.list()).map((s) => s.id)).toEqual(['m.a']);
  });

  it('lets exactly one of many concurrent saves at the same revision win', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, (_v, i) => store.state.save({ ...state('m.race', 0), checksum: `c${i}` }, 0)));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('hands out fencing tokens that grow by one per acquisition and refuses a held lease', async () => {
    const first = await acquired('job-1', 'runner-a', 5_000);
    expect(first.token).toBe(1);
    expect(await store.leases.acquire('job-1', 'runner-b', 5_000)).toBeNull();
    const again = await acquired('job-1', 'runner-a', 5_000);
    expect(again.token).toBe(2);
    await store.leases.release(first); // stale token: the lease stays
    expect(await store.leases.acquire('job-1', 'runner-b', 5_000)).toBeNull();
    await store.leases.release(again);
    expect((await store.leases.acquire('job-1', 'runner-b', 5_000))?.token).toBe(3);
  });

  it('lets another runner take an expired lease and then refuses the old runner its checkpoint and renewal', async () => {
    const old = await acquired('job-2', 'runner-a', 150);
    expect(await store.leases.writeCheckpoint('job-2', old.token, { ...emptyCheckpoint(), cursor: '42', processed: 10 })).toBe(true);
    await sleep(250);
    const next = await acquired('job-2', 'runner-b', 5_000);
    expect(next.token).toBe(old.token + 1);
    expect(await store.leases.writeCheckpoint('job-2', old.token, { ...emptyCheckpoint(), cursor: '99', processed: 20 })).toBe(false);
    expect(await store.leases.renew(old, 5_000)).toBeNull();
    const checkpoint = await store.leases.readCheckpoint('job-2');
    expect(checkpoint).toMatchObject({ cursor: '42', processed: 10 });
    expect(checkpoint?.updatedAt).toBeInstanceOf(Date);
    expect(await store.leases.writeCheckpoint('job-2', next.token, { ...emptyCheckpoint(), cursor: '7' })).toBe(true);
    expect(await store.leases.renew(next, 5_000)).toMatchObject({ token: next.token, owner: 'runner-b' });
    await store.leases.resetCheckpoint('job-2');
    expect(await store.leases.readCheckpoint('job-2')).toBeNull();
  });

  it('keeps the lease alive while it is renewed and lets it lapse when it is not', async () => {
    const lease = await acquired('job-3', 'runner-a', 200);
    for (let i = 0; i < 4; i++) {
      await sleep(100);
      expect(await store.leases.renew(lease, 200)).not.toBeNull();
    }
    expect(await store.leases.acquire('job-3', 'runner-b', 200)).toBeNull();
    await sleep(300);
    expect(await store.leases.renew(lease, 200)).toBeNull();
  });

  it('appends audit entries in order and lists the newest ones last', async () => {
    for (let i = 0; i < 5; i++) {
      await store.audit.append({ migrationId: 'm.audit', at: new Date(1_700_000_000_000 + i), actor: 'ops', action: `a${i}`, reason: 'test' });
    }
    await store.audit.append({ migrationId: 'm.other', at: new Date(), actor: 'ops', action: 'x', reason: 'test' });
    const all = await store.audit.list('m.audit');
    expect(all.map((e) => e.action)).toEqual(['a0', 'a1', 'a2', 'a3', 'a4']);
    expect(all[4].at).toEqual(new Date(1_700_000_000_004));
    expect((await store.audit.list('m.audit', 2)).map((e) => e.action)).toEqual(['a3', 'a4']);
  });

  it('keeps one quarantine entry per document and counts, lists and removes them', async () => {
    const at = new Date();
    await store.quarantine.put({ migrationId: 'm.q', docId: 'k1', reason: 'not JSON', stage: 'backfill', at });
    await store.quarantine.put({ migrationId: 'm.q', docId: 'k1', reason: 'up threw', stage: 'backfill', at });
    await store.quarantine.put({ migrationId: 'm.q', docId: 'k2', reason: 'verify failed', stage: 'verify', at });
    expect(await store.quarantine.count('m.q')).toBe(2);
    expect((await store.quarantine.list('m.q')).find((e) => e.docId === 'k1')?.reason).toBe('up threw');
    await store.quarantine.remove('m.q', 'k1');
    expect((await store.quarantine.list('m.q')).map((e) => e.docId)).toEqual(['k2']);
    expect(await store.quarantine.count('m.none')).toBe(0);
  });

  it('reports a heartbeat as live until its expiry and forgets removed instances', async () => {
    const at = new Date();
    const hb = (instanceId: string): InstanceHeartbeat => ({
      service: 'sessions',
      instanceId,
      build: 'b1',
      schemas: { 's:*': { readMin: 1, readMax: 2, writes: 1 } },
      flags: { 'sessions.full-name.write-new': false },
      at,
    });
    await store.heartbeats.beat(hb('i-1'), 1_000);
    await store.heartbeats.beat(hb('i-2'), 5_000);
    const live = await store.heartbeats.live(new Date(at.getTime() + 500));
    expect(live.map((h) => h.instanceId).sort()).toEqual(['i-1', 'i-2']);
    expect(live[0].at).toEqual(at);
    expect((await store.heartbeats.live(new Date(at.getTime() + 1_500))).map((h) => h.instanceId)).toEqual(['i-2']);
    await store.heartbeats.remove('i-2');
    expect(await store.heartbeats.live(new Date(at.getTime() + 500))).toHaveLength(1);
  });
});
