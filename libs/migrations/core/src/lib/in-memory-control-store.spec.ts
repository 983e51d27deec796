import { createInMemoryControlStore } from './in-memory-control-store';
import { ControlStore, MigrationState, emptyCheckpoint } from './store.contract';
import { heartbeat } from './testing/migration.fixtures';

const T0 = new Date('2025-03-01T12:00:00Z');

function state(revision: number, phase: MigrationState['phase'] = 'expand'): MigrationState {
  return { id: 'customers.full-name', phase, revision, checksum: 'abc', command: 'run', updatedAt: T0 };
}

describe('createInMemoryControlStore', () => {
  let store: ControlStore;

  beforeEach(() => {
    jest.useFakeTimers({ now: T0 });
    store = createInMemoryControlStore();
  });
  afterEach(() => jest.useRealTimers());

  describe('state', () => {
    it('creates a state at revision 1 when saved against revision 0', async () => {
      expect(await store.state.load('customers.full-name')).toBeNull();
      expect(await store.state.save(state(0), 0)).toBe(true);
      expect(await store.state.load('customers.full-name')).toMatchObject({ phase: 'expand', revision: 1 });
    });

    it('refuses a save against a stale revision and keeps the winner', async () => {
      await store.state.save(state(0, 'expand'), 0);
      expect(await store.state.save(state(1, 'dual-write'), 1)).toBe(true);
      expect(await store.state.save(state(1, 'rolled-back'), 1)).toBe(false);
      expect(await store.state.save(state(0, 'rolled-back'), 0)).toBe(false);
      expect(await store.state.load('customers.full-name')).toMatchObject({ phase: 'dual-write', revision: 2 });
    });

    it('hands out copies, so a caller cannot change stored state without saving', async () => {
      await store.state.save(state(0), 0);
      const loaded = (await store.state.load('customers.full-name')) as MigrationState;
      loaded.phase = 'complete';
      expect((await store.state.list()).map((s) => s.phase)).toEqual(['expand']);
    });
  });

  describe('leases', () => {
    it('gives a free lease with token 1 and refuses it to another owner while it is held', async () => {
      const lease = await store.leases.acquire('job', 'runner-a', 1_000);
      expect(lease).toEqual({ key: 'job', owner: 'runner-a', token: 1, expiresAt: new Date(T0.getTime() + 1_000) });
      expect(await store.leases.acquire('job', 'runner-b', 1_000)).toBeNull();
    });

    it('grows the fencing token by one on every acquisition, across releases and takeovers', async () => {
      const tokens: number[] = [];
      for (const owner of ['a', 'b', 'c']) {
        const lease = await store.leases.acquire('job', owner, 1_000);
        tokens.push(lease?.token ?? -1);
        if (lease) await store.leases.release(lease);
      }
      const held = await store.leases.acquire('job', 'd', 1_000);
      jest.advanceTimersByTime(1_001);
      const takenOver = await store.leases.acquire('job', 'e', 1_000);
      tokens.push(held?.token ?? -1, takenOver?.token ?? -1);
      expect(tokens).toEqual([1, 2, 3, 4, 5]);
      expect((await store.leases.acquire('other-job', 'a', 1_000))?.token).toBe(1);
    });

    it('lets another owner take over an expired lease, and the old holder can no longer renew', async () => {
      const old = await store.leases.acquire('job', 'runner-a', 500);
      jest.advanceTimersByTime(500);
      const taken = await store.leases.acquire('job', 'runner-b', 500);
      expect(taken?.owner).toBe('runner-b');
      expect(taken?.token).toBe(2);
      expect(await store.leases.renew(old as NonNullable<typeof old>, 500)).toBeNull();
    });

    it('renews a held lease from now, keeping its token', async () => {
      const lease = await store.leases.acquire('job', 'runner-a', 500);
      jest.advanceTimersByTime(400);
      const renewed = await store.leases.renew(lease as NonNullable<typeof lease>, 500);
      expect(renewed).toEqual({ key: 'job', owner: 'runner-a', token: 1, expiresAt: new Date(T0.getTime() + 900) });
      jest.advanceTimersByTime(499);
      expect(await store.leases.acquire('job', 'runner-b', 500)).toBeNull();
    });

    it('refuses to renew an expired lease even if nobody took it', async () => {
      const lease = await store.leases.acquire('job', 'runner-a', 500);
      jest.advanceTimersByTime(500);
      expect(await store.leases.renew(lease as NonNullable<typeof lease>, 500)).toBeNull();
    });

    it('releases only with the current token, so a stale holder cannot free its successor', async () => {
      const old = await store.leases.acquire('job', 'runner-a', 100);
      jest.advanceTimersByTime(100);
      const current = await store.leases.acquire('job', 'runner-b', 1_000);
      await store.leases.release(old as NonNullable<typeof old>);
      expect(await store.leases.acquire('job', 'runner-c', 1_000)).toBeNull();
      await store.leases.release(current as NonNullable<typeof current>);
      expect((await store.leases.acquire('job', 'runner-c', 1_000))?.token).toBe(3);
    });
  });

  describe('checkpoints', () => {
    it('stores a checkpoint under the current token and reads it back', async () => {
      const lease = await store.leases.acquire('job', 'runner-a', 1_000);
      const checkpoint = { ...emptyCheckpoint(T0), cursor: 'c00042', processed: 43, batches: 3 };
      expect(await store.leases.writeCheckpoint('job', lease?.token ?? 0, checkpoint)).toBe(true);
      expect(await store.leases.readCheckpoint('job')).toEqual(checkpoint);
    });

    it('refuses a checkpoint written with a stale token after a takeover', async () => {
      const old = await store.leases.acquire('job', 'runner-a', 100);
      await store.leases.writeCheckpoint('job', old?.token ?? 0, { ...emptyCheckpoint(T0), cursor: 'c00010' });
      jest.advanceTimersByTime(100);
      const current = await store.leases.acquire('job', 'runner-b', 1_000);
      expect(await store.leases.writeCheckpoint('job', old?.token ?? 0, { ...emptyCheckpoint(T0), cursor: 'c00099' })).toBe(false);
      expect((await store.leases.readCheckpoint('job'))?.cursor).toBe('c00010');
      expect(await store.leases.writeCheckpoint('job', current?.token ?? 0, { ...emptyCheckpoint(T0), cursor: 'c00020' })).toBe(true);
      expect((await store.leases.readCheckpoint('job'))?.cursor).toBe('c00020');
    });

    it('refuses a checkpoint when no lease is held', async () => {
      expect(await store.leases.writeCheckpoint('job', 1, emptyCheckpoint(T0))).toBe(false);
      expect(await store.leases.readCheckpoint('job')).toBeNull();
    });

    it('forgets a checkpoint on reset', async () => {
      const lease = await store.leases.acquire('job', 'runner-a', 1_000);
      await store.leases.writeCheckpoint('job', lease?.token ?? 0, emptyCheckpoint(T0));
      await store.leases.resetCheckpoint('job');
      expect(await store.leases.readCheckpoint('job')).toBeNull();
    });
  });

  describe('heartbeats', () => {
    it('lists an instance as live until its TTL after the beat, then drops it', async () => {
      await store.heartbeats.beat(heartbeat('a', {}, {}, { at: new Date(T0) }), 1_000);
      await store.heartbeats.beat(heartbeat('b', {}, {}, { at: new Date(T0.getTime() + 500) }), 1_000);
      const liveAt = async (ms: number) => (await store.heartbeats.live(new Date(T0.getTime() + ms))).map((h) => h.instanceId);
      expect(await liveAt(999)).toEqual(['a', 'b']);
      expect(await liveAt(1_000)).toEqual(['b']);
      expect(await liveAt(1_500)).toEqual([]);
    });

    it('keeps one heartbeat per instance, the latest', async () => {
      await store.heartbeats.beat(heartbeat('a', { writes: 1 }), 1_000);
      await store.heartbeats.beat(heartbeat('a', { writes: 2 }), 1_000);
      const live = await store.heartbeats.live();
      expect(live.map((h) => h.schemas['customers'].writes)).toEqual([2]);
    });

    it('forgets a removed instance at once', async () => {
      await store.heartbeats.beat(heartbeat('a'), 60_000);
      await store.heartbeats.remove('a');
      expect(await store.heartbeats.live()).toEqual([]);
    });
  });

  describe('quarantine', () => {
    const entry = (docId: string, migrationId = 'customers.full-name', reason = 'up threw: boom') => ({
      migrationId,
      docId,
      reason,
      stage: 'backfill',
      at: T0,
    });

    it('puts, lists, counts and removes entries per migration', async () => {
      await store.quarantine.put(entry('c1'));
      await store.quarantine.put(entry('c2'));
      await store.quarantine.put(entry('c1', 'orders.total'));
      expect((await store.quarantine.list('customers.full-name')).map((e) => e.docId)).toEqual(['c1', 'c2']);
      expect(await store.quarantine.count('customers.full-name')).toBe(2);
      await store.quarantine.remove('customers.full-name', 'c1');
      expect((await store.quarantine.list('customers.full-name')).map((e) => e.docId)).toEqual(['c2']);
      expect(await store.quarantine.count('orders.total')).toBe(1);
    });

    it('refreshes the entry of a document quarantined again instead of adding a second', async () => {
      await store.quarantine.put(entry('c1', 'customers.full-name', 'first reason'));
      await store.quarantine.put(entry('c1', 'customers.full-name', 'second reason'));
      expect(await store.quarantine.list('customers.full-name')).toEqual([entry('c1', 'customers.full-name', 'second reason')]);
    });
  });

  describe('audit', () => {
    it('lists the entries of a migration oldest first, and the newest ones when limited', async () => {
      for (const action of ['phase', 'flag', 'pause', 'resume']) {
        await store.audit.append({ migrationId: 'customers.full-name', at: T0, actor: 'ops', action, reason: 'test' });
        await store.audit.append({ migrationId: 'orders.total', at: T0, actor: 'ops', action: `other-${action}`, reason: 'test' });
      }
      expect((await store.audit.list('customers.full-name')).map((e) => e.action)).toEqual(['phase', 'flag', 'pause', 'resume']);
      expect((await store.audit.list('customers.full-name', 2)).map((e) => e.action)).toEqual(['pause', 'resume']);
    });
  });
});
