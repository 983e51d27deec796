/// <reference types="jest" />
import { InstanceHeartbeat } from '../migration.types';
import { AuditEntry, Checkpoint, ControlStore, Lease, MigrationState, QuarantineEntry, emptyCheckpoint } from '../store.contract';

/** One store under test, fresh for each case. */
export interface ControlStoreUnderTest {
  /** A store with nothing saved, leased or recorded yet (its own prefix, database or memory). */
  store: ControlStore;
  /** The store's now, in epoch ms: what its lease expiries and `heartbeats.live()` count from. */
  now(): number;
  /**
   * Lets `ms` of the store's time pass: advances the clock injected into the store, or waits in
   * real time where the store or its server keeps time (Redis key expiry).
   */
  elapse(ms: number): Promise<void>;
  /** Closes what the case opened, if anything. */
  close?(): Promise<void>;
}

/** What a store cannot do, stated by the caller; every other case runs on every store. */
export interface ControlStoreSuiteOptions {
  /**
   * Whether `elapse` moves the store's time exactly (an injected manual clock). Only then does the
   * suite check that a lease is still held 1 ms before it expires: where time passes for real,
   * that instant cannot be hit.
   */
  exactTime: boolean;
}

/** A lease that outlives any case. */
const LONG = 60_000;
/** A lease that expires within a case; where time is real, the case waits this long. */
const SHORT = 150;
/**
 * A lease or heartbeat that must still be live at the case's next step, yet expire within the
 * case: on a busy machine more than SHORT can pass between two steps where time is real.
 */
const MEDIUM = 3_000;

const MIGRATION = 'customers.full-name';

function state(revision: number, patch: Partial<MigrationState> = {}): MigrationState {
  return {
    id: MIGRATION,
    phase: 'expand',
    revision,
    checksum: 'abc123',
    command: 'run',
    backfillDoneAt: new Date('2026-01-01T10:00:00Z'),
    verify: { at: new Date('2026-01-02T03:04:05Z'), checked: 10, mismatches: 0, shadowMismatches: 1 },
    updatedAt: new Date('2026-01-03T10:00:00Z'),
    ...patch,
  };
}

/** A heartbeat whose target and flag names contain dots and slashes, as real ones do. */
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

function quarantined(docId: string, patch: Partial<QuarantineEntry> = {}): QuarantineEntry {
  return { migrationId: MIGRATION, docId, reason: 'up threw: boom', stage: 'backfill', at: new Date('2026-01-04T10:00:00Z'), ...patch };
}

/** `value`, or a failed case saying what was missing. */
function present<T>(value: T | null | undefined, what: string): T {
  if (value === null || value === undefined) throw new Error(`expected ${what}, got ${String(value)}`);
  return value;
}

/**
 * The behaviour every {@link ControlStore} shares, as one suite: call it from each store's spec with
 * a factory of fresh stores. `make` runs before each case, `close` after it.
 *
 *   describeControlStore('in-memory', () => { const clock = new ManualClock(); ... }, { exactTime: true });
 */
export function describeControlStore(name: string, make: () => ControlStoreUnderTest | Promise<ControlStoreUnderTest>, options: ControlStoreSuiteOptions): void {
  describe(`${name} control store`, () => {
    let t: ControlStoreUnderTest;
    let store: ControlStore;
    beforeEach(async () => {
      t = await make();
      store = t.store;
    });
    afterEach(async () => {
      await t?.close?.();
    });

    const acquired = async (key: string, owner: string, ttlMs: number): Promise<Lease> => present(await store.leases.acquire(key, owner, ttlMs), `${owner} to get ${key}`);
    /** `work`'s result and the store's now before and after it. */
    const timed = async <T>(work: () => Promise<T>) => {
      const before = t.now();
      const result = await work();
      return { result, before, after: t.now() };
    };

    describe('state', () => {
      it('loads nothing for a migration never saved', async () => {
        expect(await store.state.load('m.unknown')).toBeNull();
        expect(await store.state.list()).toEqual([]);
      });

      it('creates a state at revision 1 when saved against revision 0, with its dates, and refuses a second creation', async () => {
        expect(await store.state.save(state(0), 0)).toBe(true);
        expect(await store.state.save(state(0, { phase: 'backfill' }), 0)).toBe(false);
        expect(await store.state.load(MIGRATION)).toEqual(state(1));
      });

      it('refuses a save against a stale revision and keeps the winner', async () => {
        await store.state.save(state(0), 0);
        expect(await store.state.save(state(1, { phase: 'dual-write' }), 1)).toBe(true);
        expect(await store.state.save(state(1, { phase: 'rolled-back' }), 1)).toBe(false);
        expect(await store.state.save(state(0, { phase: 'rolled-back' }), 0)).toBe(false);
        expect(await store.state.load(MIGRATION)).toMatchObject({ phase: 'dual-write', revision: 2 });
      });

      it('lets exactly one of 20 concurrent creations of a state win', async () => {
        const results = await Promise.all(Array.from({ length: 20 }, (_, i) => store.state.save(state(0, { checksum: `c${i}` }), 0)));
        expect(results.filter(Boolean)).toHaveLength(1);
        const winner = results.indexOf(true);
        expect(await store.state.load(MIGRATION)).toMatchObject({ checksum: `c${winner}`, revision: 1 });
      });

      it('hands out copies, so changing a loaded state changes nothing stored', async () => {
        await store.state.save(state(0), 0);
        const loaded = present(await store.state.load(MIGRATION), 'the state');
        loaded.phase = 'complete';
        present(loaded.verify, 'verify').mismatches = 99;
        expect(await store.state.list()).toEqual([state(1)]);
      });

      it('lists every saved state', async () => {
        await store.state.save(state(0), 0);
        await store.state.save(state(0, { id: 'orders.total-cents' }), 0);
        expect((await store.state.list()).map((s) => s.id).sort()).toEqual(['customers.full-name', 'orders.total-cents']);
      });
    });

    describe('leases', () => {
      it('gives a free lease with token 1, expiring its ttl from now, and refuses it to another owner while it is held', async () => {
        const { result: lease, before, after } = await timed(() => acquired('job', 'runner-a', LONG));
        expect(lease).toMatchObject({ key: 'job', owner: 'runner-a', token: 1 });
        expect(lease.expiresAt.getTime()).toBeGreaterThanOrEqual(Math.floor(before) + LONG);
        expect(lease.expiresAt.getTime()).toBeLessThanOrEqual(Math.ceil(after) + LONG);
        expect(await store.leases.acquire('job', 'runner-b', LONG)).toBeNull();
      });

      it('grows the fencing token by one on every acquisition: again by its holder, after a release, after a takeover; another key starts at 1', async () => {
        const first = await acquired('job', 'a', LONG);
        const again = await acquired('job', 'a', LONG);
        await store.leases.release(again);
        const afterRelease = await acquired('job', 'b', SHORT);
        await t.elapse(SHORT);
        const takenOver = await acquired('job', 'c', LONG);
        expect([first, again, afterRelease, takenOver].map((l) => l.token)).toEqual([1, 2, 3, 4]);
        expect((await acquired('other-job', 'a', LONG)).token).toBe(1);
      });

      it('lets another owner take an expired lease; the old holder can then neither renew nor checkpoint, and the new one can', async () => {
        const old = await acquired('job', 'slow', MEDIUM);
        expect(await store.leases.writeCheckpoint('job', old.token, { ...emptyCheckpoint(new Date(t.now())), cursor: 'c5', processed: 5 })).toBe(true);
        await t.elapse(MEDIUM);
        const fresh = await acquired('job', 'fast', LONG);
        expect(fresh).toMatchObject({ owner: 'fast', token: old.token + 1 });
        expect(await store.leases.renew(old, LONG)).toBeNull();
        expect(await store.leases.writeCheckpoint('job', old.token, { ...emptyCheckpoint(new Date(t.now())), cursor: 'c99', processed: 99 })).toBe(false);
        expect(await store.leases.readCheckpoint('job')).toMatchObject({ cursor: 'c5', processed: 5 });
        expect(await store.leases.writeCheckpoint('job', fresh.token, { ...emptyCheckpoint(new Date(t.now())), cursor: 'c7', processed: 7 })).toBe(true);
        expect(await store.leases.readCheckpoint('job')).toMatchObject({ cursor: 'c7', processed: 7 });
      });

      it('renews a held lease from now, keeping its token, so that it outlives its first expiry', async () => {
        const lease = await acquired('job', 'runner-a', MEDIUM);
        const { result: renewed, before, after } = await timed(() => store.leases.renew(lease, LONG));
        expect(renewed).toMatchObject({ key: 'job', owner: 'runner-a', token: 1 });
        expect(present(renewed, 'the renewed lease').expiresAt.getTime()).toBeGreaterThanOrEqual(Math.floor(before) + LONG);
        expect(present(renewed, 'the renewed lease').expiresAt.getTime()).toBeLessThanOrEqual(Math.ceil(after) + LONG);
        await t.elapse(MEDIUM);
        expect(await store.leases.acquire('job', 'runner-b', LONG)).toBeNull();
        expect(await store.leases.renew(lease, LONG)).toMatchObject({ token: 1 });
      });

      it('refuses to renew an expired lease even if nobody took it', async () => {
        const lease = await acquired('job', 'runner-a', SHORT);
        await t.elapse(SHORT);
        expect(await store.leases.renew(lease, LONG)).toBeNull();
      });

      it('releases only with the current token, so a stale holder cannot free its successor', async () => {
        const old = await acquired('job', 'runner-a', SHORT);
        await t.elapse(SHORT);
        const current = await acquired('job', 'runner-b', LONG);
        await store.leases.release(old);
        expect(await store.leases.acquire('job', 'runner-c', LONG)).toBeNull();
        await store.leases.release(current);
        expect((await acquired('job', 'runner-c', LONG)).token).toBe(3);
      });

      it('gives a fresh lease to exactly one of several owners asking at once', async () => {
        const results = await Promise.all(['r1', 'r2', 'r3', 'r4', 'r5'].map((owner) => store.leases.acquire('job:race', owner, LONG)));
        const winners = results.filter((l): l is Lease => l !== null);
        expect(winners).toHaveLength(1);
        expect(winners[0].token).toBe(1);
      });

      (options.exactTime ? it : it.skip)('holds a lease until 1 ms before its expiry and frees it at that instant (needs exactTime)', async () => {
        await acquired('job', 'runner-a', 1_000);
        await t.elapse(999);
        expect(await store.leases.acquire('job', 'runner-b', 1_000)).toBeNull();
        await t.elapse(1);
        expect(await store.leases.acquire('job', 'runner-b', 1_000)).toMatchObject({ owner: 'runner-b', token: 2 });
      });
    });

    describe('checkpoints', () => {
      it('stores a checkpoint under the current token and reads it back whole', async () => {
        const lease = await acquired('job', 'runner-a', LONG);
        const checkpoint: Checkpoint = { ...emptyCheckpoint(new Date('2026-01-05T10:00:00Z')), cursor: 'c00042', processed: 43, written: 40, skipped: 1, conflicts: 1, quarantined: 1, batches: 3 };
        expect(await store.leases.writeCheckpoint('job', lease.token, checkpoint)).toBe(true);
        expect(await store.leases.readCheckpoint('job')).toEqual(checkpoint);
      });

      it('refuses a checkpoint when no lease was ever taken', async () => {
        expect(await store.leases.writeCheckpoint('job', 1, emptyCheckpoint())).toBe(false);
        expect(await store.leases.readCheckpoint('job')).toBeNull();
      });

      it('refuses a checkpoint once the lease is released, keeping the last one', async () => {
        const lease = await acquired('job', 'runner-a', LONG);
        expect(await store.leases.writeCheckpoint('job', lease.token, { ...emptyCheckpoint(), cursor: 'c1' })).toBe(true);
        await store.leases.release(lease);
        expect(await store.leases.writeCheckpoint('job', lease.token, { ...emptyCheckpoint(), cursor: 'c2' })).toBe(false);
        expect(await store.leases.readCheckpoint('job')).toMatchObject({ cursor: 'c1' });
      });

      it('forgets a checkpoint on reset', async () => {
        const lease = await acquired('job', 'runner-a', LONG);
        await store.leases.writeCheckpoint('job', lease.token, emptyCheckpoint());
        await store.leases.resetCheckpoint('job');
        expect(await store.leases.readCheckpoint('job')).toBeNull();
      });
    });

    describe('audit', () => {
      it('lists the entries of a migration oldest first, and the newest ones when limited', async () => {
        const at = new Date('2026-01-06T10:00:00Z');
        for (const action of ['phase', 'flag', 'pause', 'resume', 'abort']) {
          await store.audit.append({ migrationId: MIGRATION, at, actor: 'ops', action, reason: 'test' });
          await store.audit.append({ migrationId: 'orders.total-cents', at, actor: 'ops', action: `other-${action}`, reason: 'test' });
        }
        expect((await store.audit.list(MIGRATION)).map((e) => e.action)).toEqual(['phase', 'flag', 'pause', 'resume', 'abort']);
        expect((await store.audit.list(MIGRATION, 2)).map((e) => e.action)).toEqual(['resume', 'abort']);
        expect(await store.audit.list('m.none')).toEqual([]);
      });

      it('keeps entries whole: their time, and details whose keys contain dots and whose values are dates and numbers', async () => {
        const entries: AuditEntry[] = [0, 1, 2].map((i) => ({
          migrationId: MIGRATION,
          at: new Date(Date.UTC(2026, 0, 1, 0, 0, i)),
          actor: 'ops',
          action: 'flag',
          reason: `step ${i}`,
          details: { 'customers.full-name.write-new': i % 2 === 0, at: new Date(Date.UTC(2026, 0, 1)), n: i, nested: { list: [i, 'x'] } },
        }));
        for (const entry of entries) await store.audit.append(entry);
        await store.audit.append({ migrationId: MIGRATION, at: new Date(Date.UTC(2026, 0, 2)), actor: 'ops', action: 'pause', reason: 'no details' });
        expect(await store.audit.list(MIGRATION)).toEqual([...entries, { migrationId: MIGRATION, at: new Date(Date.UTC(2026, 0, 2)), actor: 'ops', action: 'pause', reason: 'no details' }]);
      });
    });

    describe('quarantine', () => {
      it('puts, lists, counts and removes entries per migration, whatever characters a document id holds', async () => {
        await store.quarantine.put(quarantined('c1'));
        await store.quarantine.put(quarantined('"a/b c"'));
        await store.quarantine.put(quarantined('c1', { migrationId: 'orders.total-cents' }));
        expect((await store.quarantine.list(MIGRATION)).map((e) => e.docId).sort()).toEqual(['"a/b c"', 'c1']);
        expect(await store.quarantine.count(MIGRATION)).toBe(2);
        await store.quarantine.remove(MIGRATION, 'c1');
        expect(await store.quarantine.list(MIGRATION)).toEqual([quarantined('"a/b c"')]);
        expect(await store.quarantine.count('orders.total-cents')).toBe(1);
        expect(await store.quarantine.count('m.none')).toBe(0);
      });

      it('refreshes the entry of a document quarantined again instead of adding a second', async () => {
        await store.quarantine.put(quarantined('c1', { reason: 'first reason' }));
        await store.quarantine.put(quarantined('c1', { reason: 'second reason', stage: 'verify' }));
        expect(await store.quarantine.list(MIGRATION)).toEqual([quarantined('c1', { reason: 'second reason', stage: 'verify' })]);
        expect(await store.quarantine.count(MIGRATION)).toBe(1);
      });
    });

    describe('heartbeats', () => {
      const liveAt = async (ms: number) => (await store.heartbeats.live(new Date(ms))).map((h) => h.instanceId).sort();

      it('lists an instance as live until its ttl after the beat, then drops it', async () => {
        const t0 = Math.floor(t.now());
        await store.heartbeats.beat(heartbeat('a', new Date(t0)), 1_000);
        await store.heartbeats.beat(heartbeat('b', new Date(t0 + 500)), 1_000);
        expect(await liveAt(t0 + 999)).toEqual(['a', 'b']);
        expect(await liveAt(t0 + 1_000)).toEqual(['b']);
        expect(await liveAt(t0 + 1_500)).toEqual([]);
      });

      it("counts from the store's now when asked without an instant", async () => {
        await store.heartbeats.beat(heartbeat('a', new Date(t.now())), MEDIUM);
        await store.heartbeats.beat(heartbeat('b', new Date(t.now())), LONG);
        expect((await store.heartbeats.live()).map((h) => h.instanceId).sort()).toEqual(['a', 'b']);
        await t.elapse(MEDIUM);
        expect((await store.heartbeats.live()).map((h) => h.instanceId)).toEqual(['b']);
      });

      it('returns a heartbeat whole, with target and flag names that contain dots', async () => {
        const at = new Date(Math.floor(t.now()));
        await store.heartbeats.beat(heartbeat('a', at), LONG);
        expect(await store.heartbeats.live(at)).toEqual([heartbeat('a', at)]);
      });

      it('returns the facts an instance reports, with names that contain dots, and none when it reports none', async () => {
        const at = new Date(Math.floor(t.now()));
        const facts = { 'auth.jwks-kids': ['key-2026.06', 'key-2026.12'], 'auth.empty': [] };
        await store.heartbeats.beat(heartbeat('a', at, { facts }), LONG);
        await store.heartbeats.beat(heartbeat('b', at), LONG);
        const [a, b] = (await store.heartbeats.live(at)).sort((x, y) => x.instanceId.localeCompare(y.instanceId));
        expect(a).toEqual(heartbeat('a', at, { facts }));
        expect(b).toEqual(heartbeat('b', at));
        expect(b).not.toHaveProperty('facts');
      });

      it('keeps one heartbeat per instance, the latest', async () => {
        const at = Math.floor(t.now());
        await store.heartbeats.beat(heartbeat('a', new Date(at), { build: 'blue', schemas: { customers: { readMin: 1, readMax: 1, writes: 1 } } }), LONG);
        await store.heartbeats.beat(heartbeat('a', new Date(at + 1), { build: 'green' }), LONG);
        const live = await store.heartbeats.live(new Date(at + 1));
        expect(live.map((h) => [h.build, h.schemas['customers'].writes])).toEqual([['green', 2]]);
      });

      it('forgets a removed instance at once', async () => {
        const at = new Date(Math.floor(t.now()));
        await store.heartbeats.beat(heartbeat('a', at), LONG);
        await store.heartbeats.beat(heartbeat('b', at), LONG);
        await store.heartbeats.remove('a');
        expect(await liveAt(at.getTime())).toEqual(['b']);
      });
    });
  });
}
