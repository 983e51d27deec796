import { BatchEvent, JobTarget, RunJobOptions, Step, TargetItem, runJob } from './backfill-runner';
import { createInMemoryControlStore } from './in-memory-control-store';
import { backfillStep } from './job-steps';
import { ControlStore } from './store.contract';
import { InMemoryCollection, InMemoryTargetOptions, StoredItem } from './testing/in-memory-target';
import { ManualClock } from './testing/manual-clock';
import { customer, docId, fullNameMigration, setCommand } from './testing/migration.fixtures';

const def = fullNameMigration();
const JOB = 'customers.full-name:backfill';
const BATCH = 10;
const belowTarget = (i: StoredItem) => i.version < def.to;

/** A promise the spec opens by hand, to stall a runner at a chosen point. */
function latch() {
  let open: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

describe('runJob', () => {
  let store: ControlStore;
  let collection: InMemoryCollection;
  /** The time of the store and of the runners: it moves only when a spec advances it. */
  let clock: ManualClock;

  beforeEach(() => {
    clock = new ManualClock();
    store = createInMemoryControlStore({ clock });
    collection = InMemoryCollection.seed(35, customer, docId);
  });

  /** Moves the clock 5 ms at a time until `work` settles (at most 10 simulated minutes), and returns its result. */
  async function driven<T>(work: Promise<T>): Promise<T> {
    let settled = false;
    const done = work.finally(() => (settled = true));
    done.catch(() => undefined);
    for (let step = 0; !settled; step++) {
      if (step > 120_000) throw new Error('the run did not settle within 10 simulated minutes');
      await clock.advance(5);
    }
    return done;
  }

  /** Backfill options over a fresh target; batches are fixed at 10 so the walk is predictable. */
  function job(overrides: Partial<RunJobOptions> = {}, target: InMemoryTargetOptions = {}): RunJobOptions & { target: ReturnType<InMemoryCollection['target']> } {
    return {
      jobKey: JOB,
      migrationId: def.id,
      stage: 'backfill',
      owner: 'runner-a',
      store,
      step: backfillStep(def),
      throttle: { initialBatchSize: BATCH, minBatchSize: BATCH, maxBatchSize: BATCH },
      pollMs: 2,
      clock,
      ...overrides,
      target: collection.target({ pending: belowTarget, ...target }),
    };
  }

  const versions = () => collection.all().map((i) => i.version);
  const runnerWritesPerId = () => {
    const counts = new Map<string, number>();
    for (const w of collection.writes) if (w.by === 'runner') counts.set(w.id, (counts.get(w.id) ?? 0) + 1);
    return counts;
  };

  it('walks the target in id order, batch by batch, and migrates every item once', async () => {
    const options = job();
    const result = await runJob(options);
    expect(result.status).toBe('done');
    expect(options.target.reads.map((r) => r.cursor)).toEqual([null, docId(9), docId(19), docId(29)]);
    expect(options.target.reads.flatMap((r) => r.ids)).toEqual(collection.all().map((i) => i.id));
    expect(collection.writes.map((w) => w.id)).toEqual(collection.all().map((i) => i.id));
    expect(collection.get(docId(7))?.doc).toEqual({ ...customer(7), fullName: 'First7 Last7' });
    expect(versions().every((v) => v === 2)).toBe(true);
    expect(result.checkpoint).toMatchObject({ processed: 35, written: 35, skipped: 0, conflicts: 0, quarantined: 0, batches: 4, done: true });
    expect(result.token).toBe(1);
  });

  it('writes a checkpoint after every batch, before the next one is read', async () => {
    const seen: Promise<unknown>[] = [];
    await runJob(job({ onBatch: () => void seen.push(store.leases.readCheckpoint(JOB)) }));
    const checkpoints = (await Promise.all(seen)) as { cursor: string; processed: number; batches: number }[];
    expect(checkpoints.map((c) => [c.cursor, c.processed, c.batches])).toEqual([
      [docId(9), 10, 1],
      [docId(19), 20, 2],
      [docId(29), 30, 3],
      [docId(34), 35, 4],
    ]);
    expect(await store.leases.readCheckpoint(JOB)).toMatchObject({ done: true, processed: 35 });
  });

  it('stops between batches on its signal and a later run resumes from the checkpoint without reading anything twice', async () => {
    const stop = new AbortController();
    const first = job({ signal: stop.signal, onBatch: (e) => e.batch === 2 && stop.abort() });
    const stopped = await runJob(first);
    expect(stopped.status).toBe('stopped');
    expect(stopped.checkpoint).toMatchObject({ cursor: docId(19), processed: 20, done: false });
    expect(versions().filter((v) => v === 2)).toHaveLength(20);

    const events: BatchEvent[] = [];
    const second = job({ owner: 'runner-b', onBatch: (e) => events.push(e) });
    const resumed = await runJob(second);
    expect(resumed.status).toBe('done');
    expect(resumed.token).toBe(2);
    expect(second.target.reads[0].cursor).toBe(docId(19));
    const readIds = [...first.target.reads, ...second.target.reads].flatMap((r) => r.ids);
    expect(new Set(readIds).size).toBe(readIds.length);
    expect(readIds).toHaveLength(35);
    expect(events[0].progress).toMatchObject({ done: 30, total: 35 });
    expect(resumed.checkpoint).toMatchObject({ processed: 35, written: 35, batches: 4, done: true });
  });

  it('repeats at most the one batch a killed runner wrote without checkpointing, and harmlessly', async () => {
    // This target walks every item, so the resumed run meets again whatever it wrote before the crash.
    const everything = { pending: () => true };
    const crashing = job({}, {
      ...everything,
      afterWrite: (_changes, call) => {
        if (call === 2) throw new Error('killed after write, before checkpoint');
      },
    });
    await expect(runJob(crashing)).rejects.toThrow('killed after write');
    expect((await store.leases.readCheckpoint(JOB))?.cursor).toBe(docId(9));

    const resumed = job({ owner: 'runner-b', maxPasses: 1 }, everything);
    expect((await runJob(resumed)).status).toBe('done');
    const readTwice = resumed.target.reads.flatMap((r) => r.ids).filter((id) => crashing.target.reads.some((r) => r.ids.includes(id)));
    expect(readTwice).toEqual(crashing.target.reads[1].ids);
    expect(readTwice.length).toBeLessThanOrEqual(BATCH);
    expect([...runnerWritesPerId().values()].every((n) => n === 1)).toBe(true);
    expect(runnerWritesPerId().size).toBe(35);
  });

  it('retries a conflicting item with its fresh data and never overwrites a concurrent application write', async () => {
    const options = job({}, {
      beforeWrite: (_changes, call) => {
        if (call !== 1) return;
        // An old build renames a customer; a new build writes another one at v2.
        collection.appWrite(docId(3), { firstName: 'First3', lastName: 'Renamed' }, 1);
        collection.appWrite(docId(5), { firstName: 'App', lastName: 'Writer', fullName: 'App Writer' }, 2);
      },
    });
    const result = await runJob(options);
    expect(result.status).toBe('done');
    expect(collection.get(docId(3))?.doc).toEqual({ firstName: 'First3', lastName: 'Renamed', fullName: 'First3 Renamed' });
    expect(collection.get(docId(5))).toMatchObject({ version: 2, doc: { firstName: 'App', lastName: 'Writer', fullName: 'App Writer' } });
    expect(runnerWritesPerId().get(docId(5))).toBeUndefined();
    expect(result.checkpoint).toMatchObject({ conflicts: 2, written: 34, skipped: 1 });
  });

  it('gives up on an item that changes on every attempt after maxConflictRetries, leaving the application value', async () => {
    let appWrites = 0;
    const options = job({ maxConflictRetries: 2, maxPasses: 1 }, {
      beforeWrite: (changes) => {
        if (!changes.some((c) => c.item.id === docId(4))) return;
        collection.appWrite(docId(4), { firstName: 'Busy', lastName: `Write${++appWrites}` }, 1);
      },
    });
    const result = await runJob(options);
    expect(result.status).toBe('done');
    expect(appWrites).toBe(3);
    expect(collection.get(docId(4))).toMatchObject({ version: 1, doc: { firstName: 'Busy', lastName: 'Write3' } });
    expect(result.checkpoint).toMatchObject({ conflicts: 3, written: 34 });
  });

  it('quarantines items whose step fails, with the reason, and migrates all the others', async () => {
    collection.insert(docId(4), { lastName: 'NoFirstName' });
    collection.insert(docId(8), { firstName: '', lastName: '' });
    const result = await runJob(job());
    expect(result.status).toBe('done');
    const entries = await store.quarantine.list(def.id);
    expect(entries.map((e) => [e.docId, e.stage, e.reason])).toEqual([
      [docId(4), 'backfill', 'up threw: firstName is missing'],
      [docId(8), 'backfill', 'verify failed: fullName is empty'],
    ]);
    expect(collection.all().filter((i) => i.version === 1).map((i) => i.id)).toEqual([docId(4), docId(8)]);
  });

  it('quarantines an item whose step throws instead of failing the run', async () => {
    const step = (item: TargetItem): Step => {
      if (item.id === docId(12)) throw new Error('unexpected shape');
      return { kind: 'write', doc: { ...item.doc, touched: true }, version: 2 };
    };
    const result = await runJob(job({ step }));
    expect(result.status).toBe('done');
    expect((await store.quarantine.list(def.id)).map((e) => [e.docId, e.reason])).toEqual([[docId(12), 'step threw: unexpected shape']]);
    expect(collection.all().filter((i) => i.version === 2)).toHaveLength(34);
  });

  it('quarantines an item the adapter could not decode, with the adapter reason, without calling the step', async () => {
    const options = job();
    const read = options.target.readBatch.bind(options.target);
    options.target.readBatch = async (cursor, limit) => {
      const batch = await read(cursor, limit);
      return { ...batch, items: batch.items.map((i) => (i.id === docId(6) ? { ...i, malformed: 'value is not JSON' } : i)) };
    };
    const seen: string[] = [];
    const migrate = backfillStep(def);
    await runJob({ ...options, maxPasses: 1, step: (item) => (seen.push(item.id), migrate(item)) });
    expect(seen).not.toContain(docId(6));
    expect((await store.quarantine.list(def.id)).map((e) => [e.docId, e.reason])).toEqual([[docId(6), 'value is not JSON']]);
    expect(collection.get(docId(6))?.version).toBe(1);
  });

  it('pauses within one batch, keeps its lease while paused, and continues where it stopped on resume', async () => {
    const events: BatchEvent[] = [];
    const options = job({ leaseTtlMs: 120, onBatch: (e) => events.push(e) }, {
      beforeRead: async (call) => {
        if (call === 2) await setCommand(store, def.id, 'pause');
      },
    });
    const running = runJob(options);
    await clock.advance(300);
    expect(events.map((e) => e.batch)).toEqual([1, 2]);
    expect(versions().filter((v) => v === 2)).toHaveLength(20);
    expect(await store.leases.acquire(JOB, 'runner-b', 1_000)).toBeNull();

    await setCommand(store, def.id, 'run');
    const result = await driven(running);
    expect(result.status).toBe('done');
    expect(options.target.reads.map((r) => r.cursor)).toEqual([null, docId(9), docId(19), docId(29)]);
    expect(versions().every((v) => v === 2)).toBe(true);
  });

  it('aborts within one batch, releasing its lease and leaving the rest untouched', async () => {
    const options = job({}, {
      beforeRead: async (call) => {
        if (call === 2) await setCommand(store, def.id, 'abort');
      },
    });
    const result = await runJob(options);
    expect(result.status).toBe('aborted');
    expect(result.checkpoint).toMatchObject({ batches: 2, cursor: docId(19), done: false });
    expect(versions().filter((v) => v === 2)).toHaveLength(20);
    expect((await store.leases.acquire(JOB, 'runner-b', 1_000))?.token).toBe(2);
  });

  it('tells a second runner on the same job that the lease is held, and that runner touches nothing', async () => {
    const stall = latch();
    const first = job({}, { beforeRead: () => stall.opened });
    const running = runJob(first);
    await clock.advance(5);
    const second = job({ owner: 'runner-b' });
    const refused = await driven(runJob(second));
    expect(refused).toMatchObject({ status: 'lease-held', token: 0 });
    expect(second.target.reads).toEqual([]);
    stall.open();
    expect((await driven(running)).status).toBe('done');
    expect(collection.writes.every((w) => w.by === 'runner')).toBe(true);
    expect(runnerWritesPerId().size).toBe(35);
  });

  it('ends with lease-lost and writes nothing more once its expired lease was taken over', async () => {
    const stall = latch();
    let frozen = false;
    // Runner A freezes before its second batch past its lease; that batch would quarantine what it reads.
    const migrate = backfillStep(def);
    const stale = job(
      { leaseTtlMs: 100, step: (item) => (item.id <= docId(9) ? migrate(item) : { kind: 'quarantine', reason: 'stale runner' }) },
      { pending: () => true, beforeRead: (call) => (call === 2 ? ((frozen = true), stall.opened) : undefined) },
    );
    // A frozen process (SIGSTOP, a long GC pause) renews nothing either: hold its renewals until it thaws.
    const renewLease = store.leases.renew.bind(store.leases);
    stale.store = { ...store, leases: { ...store.leases, renew: async (...args) => (frozen && (await stall.opened), renewLease(...args)) } };
    const running = runJob(stale);
    await clock.advance(150);

    const takeover = job({ owner: 'runner-b' });
    const done = await driven(runJob(takeover));
    expect(done).toMatchObject({ status: 'done', token: 2 });
    expect(takeover.target.reads[0].cursor).toBe(docId(9));
    const writesBefore = collection.writes.length;
    const checkpointBefore = await store.leases.readCheckpoint(JOB);

    stall.open();
    const lost = await driven(running);
    expect(lost).toMatchObject({ status: 'lease-lost', token: 1 });
    expect(collection.writes).toHaveLength(writesBefore);
    expect(await store.leases.readCheckpoint(JOB)).toEqual(checkpointBefore);
    expect(await store.quarantine.list(def.id)).toEqual([]);
  });

  it('quarantines what the target rejects, with the target\'s reason, and never retries it as a conflict', async () => {
    const options = job();
    const inner = options.target;
    const rereads: string[] = [];
    const target: JobTarget = {
      countRemaining: () => inner.countRemaining(),
      readBatch: (cursor, limit) => inner.readBatch(cursor, limit),
      reread: (ids) => (rereads.push(...ids), inner.reread(ids)),
      writeBatch: async (changes, fence) => {
        const refused = changes.filter((c) => c.item.id === docId(7));
        const outcome = await inner.writeBatch(changes.filter((c) => !refused.includes(c)), fence);
        return { ...outcome, rejected: refused.map((c) => ({ id: c.item.id, reason: 'the server rejected the write: document too large' })) };
      },
    };
    const result = await runJob({ ...options, target });
    expect(result).toMatchObject({ status: 'done', checkpoint: { conflicts: 0, written: 34 } });
    expect(await store.quarantine.list(def.id)).toEqual([
      expect.objectContaining({ docId: docId(7), reason: 'the server rejected the write: document too large', stage: 'backfill' }),
    ]);
    expect(rereads).toEqual([]);
    expect(collection.writes.some((w) => w.id === docId(7))).toBe(false);
  });

  it('keeps its lease through a count that takes longer than the lease, so no other runner takes over', async () => {
    const options = job({ leaseTtlMs: 60 });
    const count = options.target.countRemaining.bind(options.target);
    let rivalDuringCount: unknown = 'not tried';
    options.target.countRemaining = async () => {
      await clock.sleep(200);
      rivalDuringCount = await store.leases.acquire(JOB, 'runner-b', 1_000);
      return count();
    };
    const result = await driven(runJob(options));
    expect(rivalDuringCount).toBeNull();
    expect(result).toMatchObject({ status: 'done', token: 1 });
    expect(versions().every((v) => v === 2)).toBe(true);
  });

  it('keeps its lease through a page read that takes longer than the lease, and finishes the walk', async () => {
    let rivalDuringRead: unknown = 'not tried';
    const options = job({ leaseTtlMs: 60 }, {
      beforeRead: async (call) => {
        if (call !== 1) return;
        // A store that sorts the whole collection before it returns the first page.
        await clock.sleep(200);
        rivalDuringRead = await store.leases.acquire(JOB, 'runner-b', 1_000);
      },
    });
    const result = await driven(runJob(options));
    expect(rivalDuringRead).toBeNull();
    expect(result).toMatchObject({ status: 'done', token: 1 });
    expect(versions().every((v) => v === 2)).toBe(true);
  });

  it('never has two lease operations in flight at once, so a background renewal cannot undo a checkpoint', async () => {
    let inFlight = 0;
    let most = 0;
    const slowly = <A extends unknown[], R>(op: (...args: A) => Promise<R>) => async (...args: A): Promise<R> => {
      most = Math.max(most, ++inFlight);
      await clock.sleep(30);
      try {
        return await op(...args);
      } finally {
        inFlight--;
      }
    };
    const { leases } = store;
    const options = job({ leaseTtlMs: 150 }, { beforeRead: () => clock.sleep(120), beforeWrite: () => clock.sleep(60) });
    options.store = {
      ...store,
      leases: { ...leases, renew: slowly(leases.renew.bind(leases)), writeCheckpoint: slowly(leases.writeCheckpoint.bind(leases)) },
    };
    const result = await driven(runJob(options));
    expect(result).toMatchObject({ status: 'done', checkpoint: { processed: 35, batches: 4 } });
    expect(most).toBe(1);
  });

  it('leaves renewing the lease to its background renewal while the lease is far from expiry: one lease write per batch', async () => {
    const calls = { renew: 0, writeCheckpoint: 0 };
    const { leases } = store;
    const options = job({ leaseTtlMs: 60_000 });
    options.store = {
      ...store,
      leases: {
        ...leases,
        renew: (...args) => (calls.renew++, leases.renew(...args)),
        writeCheckpoint: (...args) => (calls.writeCheckpoint++, leases.writeCheckpoint(...args)),
      },
    };
    const result = await runJob(options);
    expect(result).toMatchObject({ status: 'done', checkpoint: { processed: 35, batches: 4 } });
    // One renewal after each of the two full counts (start and end), none per batch; one checkpoint per batch and one at the end.
    expect(calls).toEqual({ renew: 2, writeCheckpoint: 5 });
  });

  it('reports progress with a rate and an ETA after every batch', async () => {
    const events: BatchEvent[] = [];
    // Each page takes 10 ms of the clock's time.
    await driven(runJob(job({ onBatch: (e) => events.push(e) }, { beforeRead: () => clock.sleep(10) })));
    expect(events.map((e) => [e.jobKey, e.batch, e.read, e.written, e.progress.done, e.progress.total])).toEqual([
      [JOB, 1, 10, 10, 10, 35],
      [JOB, 2, 10, 10, 20, 35],
      [JOB, 3, 10, 10, 30, 35],
      [JOB, 4, 5, 5, 35, 35],
    ]);
    for (const e of events) {
      expect(e.progress.etaSec).toEqual(expect.any(Number));
      expect(e.progress.ratePerSec).toBeGreaterThan(0);
      expect(e.batchSize).toBe(BATCH);
    }
    expect(events[3].progress).toMatchObject({ remaining: 0, etaSec: 0 });
  });

  it('makes another pass for items written behind its cursor while it ran', async () => {
    const options = job({}, {
      beforeRead: (call) => {
        if (call !== 3) return;
        collection.appWrite(docId(2), { firstName: 'Old', lastName: 'Build' }, 1);
        collection.insert('c00001-late', { firstName: 'Late', lastName: 'Insert' });
      },
    });
    const result = await runJob(options);
    expect(result.status).toBe('done');
    expect(options.target.reads.map((r) => r.cursor)).toEqual([null, docId(9), docId(19), docId(29), null]);
    expect(options.target.reads[4].ids).toEqual(['c00001-late', docId(2)]);
    expect(collection.get(docId(2))?.doc).toMatchObject({ fullName: 'Old Build' });
    expect(versions().every((v) => v === 2)).toBe(true);
    expect(result.progress).toMatchObject({ done: 37, total: 37 });
  });

  it('does nothing when started again after finishing, but walks from the start once new work appears', async () => {
    await runJob(job());
    const idle = job();
    expect((await runJob(idle)).status).toBe('done');
    expect(idle.target.reads).toEqual([]);

    collection.appWrite(docId(30), customer(30), 1);
    const again = job();
    expect((await runJob(again)).status).toBe('done');
    expect(again.target.reads[0].cursor).toBeNull();
    expect(collection.get(docId(30))?.version).toBe(2);
  });

  it('stops before reading anything when its signal is already aborted', async () => {
    const options = job({ signal: AbortSignal.abort() });
    expect((await runJob(options)).status).toBe('stopped');
    expect(options.target.reads).toEqual([]);
  });

  it('shrinks its batches when the target answers slower than the latency target', async () => {
    const events: BatchEvent[] = [];
    const options = job(
      { throttle: { targetLatencyMs: 2, initialBatchSize: 8, minBatchSize: 2, maxPauseMs: 1 }, onBatch: (e) => events.push(e) },
      { beforeRead: () => clock.sleep(5) },
    );
    await driven(runJob(options));
    expect(options.target.reads.slice(0, 4).map((r) => r.limit)).toEqual([8, 4, 2, 2]);
    expect(events[0].pauseMs).toBe(1);
  });
});
