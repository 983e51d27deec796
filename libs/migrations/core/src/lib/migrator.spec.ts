import { GateRefusedError } from './gates';
import { MigrationRegistry } from './migration-registry';
import { MigrationDefinition, flagNames } from './migration.types';
import { JobLeaseHeldError, Migrator } from './migrator';
import { Lease } from './store.contract';
import { Phase } from './phases';
import { InMemoryBackendOptions, InMemoryCollection, createInMemoryBackend } from './testing/in-memory-target';
import { customer, docId, fullNameMigration, simulatedFleet, tierMigration } from './testing/migration.fixtures';

const def = fullNameMigration();
const id = def.id;
const f = flagNames(id);
const ops = { actor: 'alice', reason: 'ticket OPS-7' };
const N = 30;
const batches = { initialBatchSize: 10, minBatchSize: 10, maxBatchSize: 10 };

/** A migrator over an in-memory collection, with a fleet of two instances that follow the flags. */
function setup(options: { defs?: MigrationDefinition[]; seed?: (i: number) => Record<string, unknown>; version?: number; backend?: InMemoryBackendOptions } = {}) {
  const defs = options.defs ?? [def];
  const log: string[] = [];
  const collection = new InMemoryCollection(log);
  for (let i = 0; i < N; i++) collection.insert(docId(i), (options.seed ?? customer)(i), options.version ?? 1);
  const backend = createInMemoryBackend(collection, options.backend);
  const fleet = simulatedFleet(defs[defs.length - 1], ['i1', 'i2'], log);
  const migrator = new Migrator({ registry: MigrationRegistry.create(defs), backend, flags: fleet.flags, throttle: batches, owner: 'runner-1' });
  const store = backend.store;

  /** Advances until `target`, with the fleet following the flags and each phase's job run as an operator would. */
  async function driveTo(target: Phase, migrationId = defs[defs.length - 1].id, runBackfill = true): Promise<void> {
    for (let phase = (await migrator.status(migrationId)).phase; phase !== target; phase = await migrator.advance(migrationId, ops)) {
      await fleet.beat(store);
      if (phase === 'backfill' && runBackfill) expect((await migrator.run(migrationId, 'backfill')).status).toBe('done');
      if (phase === 'verify') expect((await migrator.verify(migrationId)).report.mismatches).toBe(0);
      if (phase === 'contract') expect((await migrator.run(migrationId, 'contract')).status).toBe('done');
    }
    await fleet.beat(store);
  }

  const phase = async (migrationId = id) => (await migrator.phaseMachine.state(migrationId)).phase;
  const actions = async (migrationId = id) => (await store.audit.list(migrationId)).map((e) => e.action);
  return { log, collection, backend, fleet, migrator, store, driveTo, phase, actions };
}

describe('Migrator', () => {
  describe('plan', () => {
    it('writes nothing and lists the phases with their flag changes, the counts and an estimate', async () => {
      const { migrator, store, collection } = setup({ defs: [def, tierMigration('lazy')] });
      const before = JSON.stringify([await store.state.list(), await store.audit.list(id), await store.quarantine.list(id), collection.all()]);

      const [entry, lazy] = await migrator.plan();

      const after = JSON.stringify([await store.state.list(), await store.audit.list(id), await store.quarantine.list(id), collection.all()]);
      expect(after).toBe(before);
      expect(collection.writes).toEqual([]);
      expect(await store.leases.readCheckpoint(`${id}:backfill`)).toBeNull();

      expect(entry).toMatchObject({ id, strategy: 'expand-contract', currentPhase: 'pending', affected: N, total: N, reversible: true });
      expect(entry.phases.map((p) => [p.phase, p.flags])).toEqual([
        ['expand', {}],
        ['dual-write', { [f.writeNew]: true }],
        ['backfill', {}],
        ['verify', {}],
        ['switch-reads', { [f.readNew]: true }],
        ['contract', { [f.writeOld]: false }],
        ['complete', {}],
      ]);
      for (const p of entry.phases) expect(p.does.length).toBeGreaterThan(0);
      expect(entry.sampleRatePerSec).toBeGreaterThan(0);
      expect(entry.estimatedBackfillSec).toBeGreaterThanOrEqual(1);

      expect(lazy).toMatchObject({ id: 'customers.tier', strategy: 'additive (read-time default, no backfill)', affected: 0, estimatedBackfillSec: 0, reversible: false });
    });

    it('plans only the migrations asked for and says when one is unknown', async () => {
      const { migrator } = setup({ defs: [def, tierMigration('lazy')] });
      expect((await migrator.plan(['customers.tier'])).map((e) => e.id)).toEqual(['customers.tier']);
      await expect(migrator.plan(['orders.nope'])).rejects.toThrow('Unknown migration "orders.nope"');
    });

    it('shows the current phase and nothing left to backfill once the data is migrated', async () => {
      const { migrator, driveTo } = setup();
      await driveTo('verify');
      expect((await migrator.plan())[0]).toMatchObject({ currentPhase: 'verify', affected: 0, estimatedBackfillSec: 0 });
    });
  });

  it('runs a backfill under a lease, migrating every document and recording that the backfill is done', async () => {
    const { migrator, collection, store, driveTo } = setup();
    await driveTo('backfill');
    const events: number[] = [];
    const result = await migrator.run(id, 'backfill', { onBatch: (e) => events.push(e.progress.done) });
    expect(result).toMatchObject({ status: 'done', checkpoint: { processed: N, written: N, done: true } });
    expect(events).toEqual([10, 20, 30]);
    expect(collection.all().every((i) => i.version === 2 && i.doc['fullName'] === `${i.doc['firstName']} ${i.doc['lastName']}`)).toBe(true);
    expect((await migrator.phaseMachine.state(id)).backfillDoneAt).toBeTruthy();
    expect((await store.audit.list(id)).at(-1)).toMatchObject({ action: 'backfill-done', actor: 'runner-1', reason: 'backfill job' });
  });

  /** A backfill over data with one customer `up` rejects (c00003) and one whose result fails verify (c00020). */
  async function backfilledWithTwoBroken() {
    const env = setup();
    env.collection.insert(docId(3), { lastName: 'NoFirst' });
    env.collection.insert(docId(20), { firstName: '', lastName: '' });
    await env.driveTo('backfill');
    await env.migrator.run(id, 'backfill');
    return env;
  }

  it('refuses to leave backfill while documents are quarantined or below target, naming each gate', async () => {
    const { migrator, phase } = await backfilledWithTwoBroken();
    const err = await migrator.advance(id, ops).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GateRefusedError);
    expect((err as GateRefusedError).failing.map((g) => `${g.gate}: ${g.detail}`)).toEqual([
      'no-document-below-target: 2 document(s) below v2',
      'quarantine-empty: 2 quarantined document(s)',
    ]);
    expect(await phase()).toBe('backfill');
    expect((await migrator.quarantined(id)).map((e) => [e.docId, e.reason])).toEqual([
      [docId(3), 'up threw: firstName is missing'],
      [docId(20), 'verify failed: fullName is empty'],
    ]);
  });

  it('retries quarantined documents once fixed, clearing those that now migrate and keeping the others with a fresh reason', async () => {
    const { migrator, collection, store } = await backfilledWithTwoBroken();
    collection.appWrite(docId(3), { firstName: 'Fixed', lastName: 'NoFirst' }, 1);
    collection.appWrite(docId(20), { lastName: 'StillBroken' }, 1);

    const { fixed, still } = await migrator.retryQuarantined(id, ops);
    expect(fixed).toEqual([docId(3)]);
    expect(still.map((e) => [e.docId, e.reason])).toEqual([[docId(20), 'up threw: firstName is missing']]);
    expect(collection.get(docId(3))).toMatchObject({ version: 2, doc: { fullName: 'Fixed NoFirst' } });
    expect((await store.audit.list(id)).at(-1)).toMatchObject({ action: 'quarantine-retry', actor: 'alice', reason: 'ticket OPS-7', details: { fixed: 1 } });

    collection.appWrite(docId(20), { firstName: 'Now', lastName: 'Fine' }, 1);
    expect((await migrator.retryQuarantined(id, ops)).still).toEqual([]);
    await expect(migrator.advance(id, ops)).resolves.toBe('verify');
  });

  it('patches a quarantined document with the operator\'s value, audits who, why and each value before and after, and re-runs it', async () => {
    const { migrator, collection, store } = await backfilledWithTwoBroken();
    const result = await migrator.patchQuarantined(id, docId(3), { set: { firstName: 'Patched' } }, ops);
    expect(result.changes).toEqual([{ path: 'firstName', before: undefined, after: 'Patched' }]);
    expect(result.fixed).toEqual([docId(3)]);
    expect(result.still.map((e) => e.docId)).toEqual([docId(20)]);
    expect(collection.get(docId(3))).toMatchObject({ version: 2, doc: { firstName: 'Patched', lastName: 'NoFirst', fullName: 'Patched NoFirst' } });
    const audit = (await store.audit.list(id)).slice(-2);
    expect(audit).toMatchObject([
      { action: 'quarantine-patch', actor: 'alice', reason: 'ticket OPS-7', details: { docId: docId(3), changes: [{ path: 'firstName', before: 'undefined', after: '"Patched"' }] } },
      { action: 'quarantine-retry', actor: 'alice', details: { fixed: 1 } },
    ]);
  });

  it('keeps a patched document quarantined with a fresh reason when the patch does not fix it', async () => {
    const { migrator, collection } = await backfilledWithTwoBroken();
    const result = await migrator.patchQuarantined(id, docId(20), { set: { nickname: 'Still nameless' } }, ops);
    expect(result.fixed).toEqual([]);
    expect(result.still.find((e) => e.docId === docId(20))?.reason).toBe('verify failed: fullName is empty');
    expect(collection.get(docId(20))).toMatchObject({ version: 1, doc: { firstName: '', lastName: '', nickname: 'Still nameless' } });
  });

  it('patches nothing that is not quarantined, nothing while a runner holds the lease, and nothing on a bad path', async () => {
    const { migrator, collection, store } = await backfilledWithTwoBroken();
    const writes = collection.writes.length;
    await expect(migrator.patchQuarantined(id, docId(5), { set: { firstName: 'X' } }, ops)).rejects.toThrow(`document ${docId(5)} is not quarantined by ${id}; see zdm quarantine list ${id}`);
    await expect(migrator.patchQuarantined(id, docId(3), { set: { '_v': 2 } }, ops)).rejects.toThrow('path "_v" names bookkeeping (_v), which only the store writes');
    const running = await store.leases.acquire(`${id}:backfill`, 'live-runner', 60_000);
    await expect(migrator.patchQuarantined(id, docId(3), { set: { firstName: 'X' } }, ops)).rejects.toBeInstanceOf(JobLeaseHeldError);
    await store.leases.release(running as Lease);
    expect(collection.writes).toHaveLength(writes);
    expect((await store.audit.list(id)).map((e) => e.action)).not.toContain('quarantine-patch');
  });

  it('refuses to retry quarantined documents while a runner holds the job\'s lease, writing nothing and leaving that lease alone', async () => {
    const { migrator, collection, store } = await backfilledWithTwoBroken();
    collection.appWrite(docId(3), { firstName: 'Fixed', lastName: 'NoFirst' }, 1);
    const writes = collection.writes.length;
    const running = await store.leases.acquire(`${id}:backfill`, 'live-runner', 60_000);
    const err = await migrator.retryQuarantined(id, ops).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JobLeaseHeldError);
    expect((err as Error).message).toBe(`${id} backfill: a runner holds its lease; run this again once the job has ended`);
    expect(collection.writes).toHaveLength(writes);
    expect((await migrator.quarantined(id)).map((e) => e.docId)).toEqual([docId(3), docId(20)]);
    // The runner still holds its lease with its token: it renews, and nobody else can take it.
    expect(await store.leases.renew(running as Lease, 60_000)).toMatchObject({ owner: 'live-runner', token: running?.token });

    await store.leases.release(running as Lease);
    expect((await migrator.retryQuarantined(id, ops)).fixed).toEqual([docId(3)]);
    // The retry took the job's lease (a new token) and gave it back.
    expect(await store.leases.acquire(`${id}:backfill`, 'next-runner', 1_000)).toMatchObject({ token: (running?.token ?? 0) + 2 });
  });

  it('clears the entry of a quarantined document that was deleted meanwhile', async () => {
    const { migrator, store } = setup();
    await store.quarantine.put({ migrationId: id, docId: 'gone', reason: 'up threw', stage: 'backfill', at: new Date() });
    expect(await migrator.retryQuarantined(id, ops)).toEqual({ fixed: ['gone'], still: [] });
  });

  it('verifies every document, quarantining mismatches, records the report and checks the round trip', async () => {
    const { migrator, collection, driveTo, store } = setup();
    await driveTo('verify');
    collection.appWrite(docId(5), { fullName: ' ' }, 2);
    const bad = await migrator.verify(id, { shadowMismatches: 1 });
    expect(bad.report).toMatchObject({ checked: N, mismatches: 1, shadowMismatches: 1 });
    expect(bad.result.status).toBe('done');
    expect(await migrator.quarantined(id)).toMatchObject([{ docId: docId(5), stage: 'verify', reason: 'verify failed: fullName is empty' }]);
    expect((await migrator.phaseMachine.state(id)).verify).toMatchObject({ mismatches: 1 });
    await expect(migrator.advance(id, ops)).rejects.toThrow(/verify-mismatches-zero: 1 verify mismatch\(es\), 1 shadow-read mismatch\(es\)/);

    collection.appWrite(docId(5), { firstName: 'First5', lastName: 'Last5', fullName: 'First5 Last5' }, 2);
    expect((await migrator.retryQuarantined(id, ops)).fixed).toEqual([docId(5)]);
    const good = await migrator.verify(id);
    expect(good.report).toMatchObject({ checked: N, mismatches: 0, shadowMismatches: 0 });
    expect((await store.audit.list(id)).filter((e) => e.action === 'verify')).toHaveLength(2);
    await expect(migrator.advance(id, ops)).resolves.toBe('switch-reads');
  });

  it('refuses to leave verify on a verify pass older than the last backfill pass, until verify runs again', async () => {
    const { migrator, driveTo, phase } = setup();
    await driveTo('verify');
    expect((await migrator.verify(id)).report.mismatches).toBe(0);
    await new Promise((r) => setTimeout(r, 5));
    expect((await migrator.run(id, 'backfill')).status).toBe('done');
    await expect(migrator.advance(id, ops)).rejects.toThrow(/verify-ran: last verify at .* is older than the last backfill pass/);
    await migrator.verify(id);
    expect(await migrator.advance(id, ops)).toBe('switch-reads');
    expect(await phase()).toBe('switch-reads');
  });

  it('reports the round trip on a sample of old documents', async () => {
    const { migrator } = setup({ defs: [fullNameMigration({ down: undefined })] });
    const { roundTrip } = await migrator.verify(id);
    expect(roundTrip).toMatchObject({ reversible: false, failures: [{ reason: expect.stringContaining('irreversible') }] });
    expect((await setup().migrator.verify(id)).roundTrip).toEqual({ reversible: true, sampled: N, failures: [] });
  });

  it('takes a migration from pending to complete, leaving every document in the new shape only', async () => {
    const { collection, fleet, driveTo, actions } = setup();
    await driveTo('complete');
    expect(collection.all().map((i) => [i.version, i.doc])).toEqual(collection.all().map((_i, n) => [2, { fullName: `First${n} Last${n}` }]));
    expect(fleet.flags.calls).toEqual([
      { flag: f.writeNew, enabled: true },
      { flag: f.readNew, enabled: true },
      { flag: f.writeOld, enabled: false },
    ]);
    expect((await actions()).filter((a) => a === 'phase')).toHaveLength(7);
  });

  it('completes a lazy additive migration without rewriting documents, verifying what readers see', async () => {
    const lazy = tierMigration('lazy');
    const { collection, driveTo, phase } = setup({
      defs: [def, lazy],
      version: 2,
      seed: (i) => ({ fullName: `First${i} Last${i}` }),
    });
    await driveTo('complete', lazy.id, false);
    expect(await phase(lazy.id)).toBe('complete');
    expect(collection.writes).toEqual([]);
  });

  it('stops a running backfill within one batch when aborted through the migrator, and audits the abort', async () => {
    const late: { migrator?: Migrator; aborted?: boolean } = {};
    const abortOnce = async (call: number) => {
      if (call !== 2 || late.aborted) return;
      late.aborted = true;
      await late.migrator?.abort(id, ops);
    };
    const env = setup({ backend: { hooks: { backfill: { beforeRead: abortOnce } } } });
    late.migrator = env.migrator;
    await env.driveTo('backfill');
    const result = await env.migrator.run(id, 'backfill');
    expect(result).toMatchObject({ status: 'aborted', checkpoint: { batches: 2 } });
    expect(env.collection.all().filter((i) => i.version === 2)).toHaveLength(20);
    expect((await env.store.audit.list(id)).at(-1)).toMatchObject({ action: 'abort', actor: 'alice' });
    await env.migrator.resume(id, ops);
    expect((await env.migrator.run(id, 'backfill')).status).toBe('done');
    expect((await env.actions()).slice(-3)).toEqual(['abort', 'resume', 'backfill-done']);
  });

  it('records a pause for the runners', async () => {
    const { migrator } = setup();
    await migrator.pause(id, ops);
    expect((await migrator.status(id)).command).toBe('pause');
  });

  describe('undo records', () => {
    /** A backend whose undo log is a counter of records per migration; `fail` makes clearing throw. */
    function withUndo(fail = false) {
      const env = setup();
      const calls: { migrationId: string; phase: Phase; atV1: number }[] = [];
      env.backend.clearUndo = async (migrationId) => {
        calls.push({ migrationId, phase: await env.phase(migrationId), atV1: env.collection.all().filter((i) => i.version === 1).length });
        if (fail) throw new Error('store unreachable');
        return 12;
      };
      return { ...env, calls };
    }

    it('are kept through contract and dropped once the migration is complete, the drop audited', async () => {
      const { driveTo, calls, store } = withUndo();
      await driveTo('contract');
      expect(calls).toEqual([]);
      await driveTo('complete');
      expect(calls).toEqual([{ migrationId: id, phase: 'complete', atV1: 0 }]);
      const cleared = (await store.audit.list(id)).filter((e) => e.action === 'undo-cleared');
      expect(cleared.map((e) => [e.actor, e.details])).toEqual([['alice', { records: 12 }]]);
    });

    it('are dropped once a rollback has restored the data, not before', async () => {
      const { migrator, driveTo, calls } = withUndo();
      await driveTo('verify');
      expect((await migrator.rollback(id, ops))?.status).toBe('done');
      // Cleared once, with every document back at v1.
      expect(calls).toEqual([{ migrationId: id, phase: 'rolled-back', atV1: N }]);
    });

    it('are still there for a rollback during contract, and dropped once down() has run', async () => {
      const { migrator, driveTo, calls } = withUndo();
      await driveTo('contract');
      expect((await migrator.rollback(id, ops))?.status).toBe('done');
      expect(calls).toEqual([{ migrationId: id, phase: 'rolled-back', atV1: N }]);
    });

    it('that cannot be dropped stay, and the failure goes to the audit log instead of failing the phase change', async () => {
      const { driveTo, phase, store } = withUndo(true);
      await driveTo('complete');
      expect(await phase()).toBe('complete');
      const failed = (await store.audit.list(id)).filter((e) => e.action === 'undo-clear-failed');
      expect(failed.map((e) => e.details)).toEqual([{ error: 'store unreachable' }]);
    });
  });

  describe('rollback', () => {
    it('from pending only marks the migration rolled back', async () => {
      const { migrator, collection, phase } = setup();
      expect(await migrator.rollback(id, ops)).toBeNull();
      expect(await phase()).toBe('rolled-back');
      expect(collection.writes).toEqual([]);
    });

    it('before contract turns the flags back first, then restores every document to its old shape', async () => {
      const { migrator, collection, log, driveTo, phase, actions } = setup();
      const original = collection.all().map((i) => [i.id, i.version, i.doc]);
      await driveTo('switch-reads');
      const from = log.length;

      const result = await migrator.rollback(id, ops);

      expect(result?.status).toBe('done');
      expect(await phase()).toBe('rolled-back');
      expect(collection.all().map((i) => [i.id, i.version, i.doc])).toEqual(original);
      const steps = log.slice(from);
      const firstWrite = steps.findIndex((l) => l.startsWith('write'));
      expect(steps.slice(0, firstWrite)).toEqual([`flag ${f.writeNew}=false`, `flag ${f.readNew}=false`]);
      expect(steps.filter((l) => l.startsWith('write'))).toHaveLength(N);
      expect((await actions()).slice(-4)).toEqual(['rollback-start', 'flag', 'flag', 'rollback']);
    });

    it('after contract runs down() over the data first, then turns the flags back', async () => {
      const { migrator, collection, log, driveTo, phase, store } = setup();
      const original = collection.all().map((i) => [i.id, i.doc]);
      await driveTo('complete');
      const from = log.length;

      expect((await migrator.rollback(id, ops))?.status).toBe('done');

      expect(await phase()).toBe('rolled-back');
      expect(collection.all().map((i) => [i.id, i.doc])).toEqual(original);
      expect(collection.all().every((i) => i.version === 1)).toBe(true);
      const steps = log.slice(from);
      const firstFlag = steps.findIndex((l) => l.startsWith('flag'));
      expect(steps.slice(0, firstFlag)).toHaveLength(N);
      expect(steps.slice(firstFlag)).toEqual([`flag ${f.writeNew}=false`, `flag ${f.readNew}=false`, `flag ${f.writeOld}=true`]);
      const audit = await store.audit.list(id);
      expect(audit.filter((e) => e.action.startsWith('rollback')).map((e) => [e.action, e.actor, e.reason])).toEqual([
        ['rollback-start', 'alice', 'ticket OPS-7'],
        ['rollback', 'alice', 'ticket OPS-7'],
      ]);
    });

    it('refuses an irreversible migration past contract with the reason, touching nothing', async () => {
      const { migrator, collection, fleet, driveTo, phase, actions } = setup({ defs: [fullNameMigration({ down: undefined })] });
      await driveTo('contract');
      const writes = collection.writes.length;
      const flagCalls = fleet.flags.calls.length;
      const audited = (await actions()).length;

      await expect(migrator.rollback(id, ops)).rejects.toThrow(/customers.full-name is irreversible: it has no down\(\)/);

      expect(await phase()).toBe('contract');
      expect(collection.writes).toHaveLength(writes);
      expect(fleet.flags.calls).toHaveLength(flagCalls);
      expect(await actions()).toHaveLength(audited);
    });

    it.each<[string, Phase]>([
      ['before contract', 'verify'],
      ['after contract', 'complete'],
    ])('restores the data %s even after the runners were aborted', async (_when, at) => {
      const { migrator, collection, driveTo, phase } = setup();
      await driveTo(at);
      await migrator.abort(id, ops);
      expect((await migrator.rollback(id, ops))?.status).toBe('done');
      expect(await phase()).toBe('rolled-back');
      expect(collection.all().every((i) => i.version === 1 && !('fullName' in i.doc))).toBe(true);
    });
  });
});
