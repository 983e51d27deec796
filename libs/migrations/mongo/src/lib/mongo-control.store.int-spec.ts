import { ControlStore, InstanceHeartbeat, MigrationState, emptyCheckpoint } from '@zdm/migrations-core';
import { present, useTestMongo } from '../test/ferretdb.fixture';
import { controlCollectionNames, createMongoControlStore } from './mongo-control.store';

jest.setTimeout(60_000);

const mongo = useTestMongo('control-store');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function state(id: string, patch: Partial<MigrationState> = {}): MigrationState {
  return { id, phase: 'expand', revision: 0, checksum: 'abc123', command: 'run', backfillDoneAt: null, verify: null, updatedAt: new Date(), ...patch };
}

function heartbeat(instanceId: string, at: Date, patch: Partial<InstanceHeartbeat> = {}): InstanceHeartbeat {
  return {
    service: 'customers',
    instanceId,
    build: 'green',
    schemas: { customers: { readMin: 1, readMax: 2, writes: 2 }, 'session:*': { readMin: 1, readMax: 1, writes: 1 } },
    flags: { 'customers.full-name.write-new': true, 'customers.full-name.read-new': false },
    at,
    ...patch,
  };
}

describe('createMongoControlStore', () => {
  let store: ControlStore;
  beforeAll(() => {
    store = createMongoControlStore(mongo.db);
  });

  describe('state', () => {
    it('saves a new state only when no one saved it before, and loads it back with its dates', async () => {
      const verify = { at: new Date('2026-01-02T03:04:05Z'), checked: 10, mismatches: 0, shadowMismatches: 1 };
      expect(await store.state.save(state('m.first', { verify }), 0)).toBe(true);
      expect(await store.state.save(state('m.first', { phase: 'backfill' }), 0)).toBe(false);
      const loaded = await store.state.load('m.first');
      expect(loaded).toMatchObject({ id: 'm.first', phase: 'expand', revision: 1, verify });
      expect(loaded?.updatedAt).toBeInstanceOf(Date);
      expect(await store.state.load('m.unknown')).toBeNull();
    });

    it('compares and sets on the revision: a save based on a stale revision is refused', async () => {
      await store.state.save(state('m.cas'), 0);
      expect(await store.state.save(state('m.cas', { phase: 'dual-write' }), 1)).toBe(true);
      expect(await store.state.save(state('m.cas', { phase: 'backfill' }), 1)).toBe(false);
      expect(await store.state.load('m.cas')).toMatchObject({ phase: 'dual-write', revision: 2 });
      expect((await store.state.list()).map((s) => s.id)).toEqual(expect.arrayContaining(['m.first', 'm.cas']));
    });
  });

  describe('leases', () => {
    it('hands a free lease to one owner at a time and grows the fencing token by one on every acquisition', async () => {
      const first = await store.leases.acquire('job:a', 'runner-1', 60_000);
      expect(first).toMatchObject({ key: 'job:a', owner: 'runner-1', token: 1 });
      expect(await store.leases.acquire('job:a', 'runner-2', 60_000)).toBeNull();
      const again = await store.leases.acquire('job:a', 'runner-1', 60_000);
      expect(again?.token).toBe(2);
      await store.leases.release(present(again));
      const third = await store.leases.acquire('job:a', 'runner-2', 60_000);
      expect(third).toMatchObject({ owner: 'runner-2', token: 3 });
    });

    it('lets another runner take an expired lease, after which the old holder can neither renew nor checkpoint', async () => {
      const old = present(await store.leases.acquire('job:b', 'slow', 150));
      expect(await store.leases.writeCheckpoint('job:b', old.token, { ...emptyCheckpoint(), processed: 5, cursor: 'c5' })).toBe(true);
      await sleep(250);
      const fresh = present(await store.leases.acquire('job:b', 'fast', 60_000));
      expect(fresh.token).toBe(old.token + 1);
      expect(await store.leases.renew(old, 60_000)).toBeNull();
      expect(await store.leases.writeCheckpoint('job:b', old.token, { ...emptyCheckpoint(), processed: 99 })).toBe(false);
      expect(await store.leases.writeCheckpoint('job:b', fresh.token, { ...emptyCheckpoint(), processed: 7, cursor: 'c7' })).toBe(true);
      expect(await store.leases.readCheckpoint('job:b')).toMatchObject({ processed: 7, cursor: 'c7' });
    });

    it('renews a lease still held, refuses checkpoints once it is released, and forgets a reset checkpoint', async () => {
      const lease = present(await store.leases.acquire('job:c', 'r', 1_000));
      const renewed = await store.leases.renew(lease, 60_000);
      expect(present(renewed).expiresAt.getTime()).toBeGreaterThan(lease.expiresAt.getTime());
      expect(await store.leases.writeCheckpoint('job:c', lease.token, emptyCheckpoint())).toBe(true);
      await store.leases.release(lease);
      expect(await store.leases.writeCheckpoint('job:c', lease.token, emptyCheckpoint())).toBe(false);
      expect(await store.leases.readCheckpoint('job:c')).not.toBeNull();
      await store.leases.resetCheckpoint('job:c');
      expect(await store.leases.readCheckpoint('job:c')).toBeNull();
    });

    it('gives a fresh lease to exactly one of several runners asking at once', async () => {
      const results = await Promise.all(['r1', 'r2', 'r3', 'r4', 'r5'].map((owner) => store.leases.acquire('job:race', owner, 60_000)));
      const winners = results.filter((l) => l !== null);
      expect(winners).toHaveLength(1);
      expect(winners[0]?.token).toBe(1);
    });
  });

  describe('audit', () => {
    it('returns entries oldest first, the newest `limit` of them, with details whose keys contain dots', async () => {
      for (let i = 0; i < 5; i++) {
        await store.audit.append({
          migrationId: 'm.audit',
          at: new Date(Date.UTC(2026, 0, 1, 0, 0, i)),
          actor: 'ops',
          action: i === 0 ? 'phase' : 'flag',
          reason: `step ${i}`,
          details: { 'customers.full-name.write-new': i % 2 === 0, at: new Date(Date.UTC(2026, 0, 1)), n: i },
        });
      }
      await store.audit.append({ migrationId: 'm.other', at: new Date(), actor: 'ops', action: 'pause', reason: 'x' });
      const all = await store.audit.list('m.audit');
      expect(all.map((e) => e.reason)).toEqual(['step 0', 'step 1', 'step 2', 'step 3', 'step 4']);
      expect(all[2].details).toEqual({ 'customers.full-name.write-new': true, at: new Date(Date.UTC(2026, 0, 1)), n: 2 });
      expect((await store.audit.list('m.audit', 2)).map((e) => e.reason)).toEqual(['step 3', 'step 4']);
      expect(await store.audit.list('m.other')).toEqual([expect.objectContaining({ action: 'pause', reason: 'x' })]);
    });
  });

  describe('quarantine', () => {
    it('records one entry per document, refreshes it, counts, lists and removes it', async () => {
      const at = new Date();
      await store.quarantine.put({ migrationId: 'm.q', docId: '"a/b c"', reason: 'first', stage: 'backfill', at });
      await store.quarantine.put({ migrationId: 'm.q', docId: '"a/b c"', reason: 'second', stage: 'verify', at });
      await store.quarantine.put({ migrationId: 'm.q', docId: '42', reason: 'up threw', stage: 'backfill', at });
      await store.quarantine.put({ migrationId: 'm.q2', docId: '42', reason: 'other migration', stage: 'backfill', at });
      expect(await store.quarantine.count('m.q')).toBe(2);
      expect(await store.quarantine.list('m.q')).toEqual(
        expect.arrayContaining([{ migrationId: 'm.q', docId: '"a/b c"', reason: 'second', stage: 'verify', at }]),
      );
      await store.quarantine.remove('m.q', '42');
      expect((await store.quarantine.list('m.q')).map((e) => e.docId)).toEqual(['"a/b c"']);
      expect(await store.quarantine.count('m.q2')).toBe(1);
    });
  });

  describe('heartbeats', () => {
    it('keeps a heartbeat live until its TTL has passed, with flag and target names that contain dots', async () => {
      const now = Date.now();
      await store.heartbeats.beat(heartbeat('i-live', new Date(now)), 10_000);
      await store.heartbeats.beat(heartbeat('i-stale', new Date(now - 20_000)), 10_000);
      await store.heartbeats.beat(heartbeat('i-gone', new Date(now)), 10_000);
      await store.heartbeats.remove('i-gone');
      const live = await store.heartbeats.live(new Date(now));
      expect(live).toEqual([heartbeat('i-live', new Date(now))]);
      expect(await store.heartbeats.live(new Date(now + 11_000))).toEqual([]);
    });

    it('replaces an instance heartbeat with its latest beat', async () => {
      const t = Date.now();
      await store.heartbeats.beat(heartbeat('i-twice', new Date(t), { build: 'blue' }), 10_000);
      await store.heartbeats.beat(heartbeat('i-twice', new Date(t + 1), { build: 'green' }), 10_000);
      const twice = (await store.heartbeats.live(new Date(t))).filter((h) => h.instanceId === 'i-twice');
      expect(twice.map((h) => h.build)).toEqual(['green']);
    });
  });

  it('reads without writing anything, not even its collections (so a dry run leaves no trace)', async () => {
    const untouched = createMongoControlStore(mongo.db, { prefix: 'zdmro_' });
    await untouched.state.load('m');
    await untouched.state.list();
    await untouched.leases.readCheckpoint('k');
    await untouched.audit.list('m');
    await untouched.quarantine.list('m');
    await untouched.quarantine.count('m');
    await untouched.heartbeats.live();
    const names = (await mongo.db.listCollections().toArray()).map((c) => c.name);
    expect(names.filter((n) => n.startsWith('zdmro_'))).toEqual([]);
  });

  it('creates its indexes idempotently, also from a second store on the same database', async () => {
    const second = createMongoControlStore(mongo.db);
    await second.quarantine.remove('m.none', 'x');
    await store.quarantine.remove('m.none', 'x');
    const names = controlCollectionNames();
    const index = async (collection: string) => (await mongo.db.collection(collection).indexes()).map((i) => i.name);
    expect(await index(names.audit)).toContain('zdm_audit_by_migration');
    expect(await index(names.quarantine)).toContain('zdm_quarantine_by_migration');
    expect(await index(names.heartbeats)).toContain('zdm_expiry');
  });
});
