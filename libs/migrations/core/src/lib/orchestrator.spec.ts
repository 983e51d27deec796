import { FlagAdmin } from './phase-machine';
import { MigrationRegistry } from './migration-registry';
import { MigrationDefinition, flagNames } from './migration.types';
import { Migrator } from './migrator';
import { dueJob } from './jobs';
import { OrchestrationError, Orchestrator, OrchestratorListener } from './orchestrator';
import { InMemoryCollection, createInMemoryBackend } from './testing/in-memory-target';
import { ManualClock } from './testing/manual-clock';
import { customer, docId, fullNameMigration, heartbeat, setCommand, simulatedFleet, tierMigration } from './testing/migration.fixtures';

const ops = { actor: 'alice', reason: 'ticket OPS-9' };
const batches = { initialBatchSize: 10, minBatchSize: 10, maxBatchSize: 10 };
const quick = { timeoutMs: 2_000, pollMs: 5 };

/**
 * An orchestrator over an in-memory collection of `count` v1 customers and the in-memory control
 * store. The fleet's instances see each flag as soon as it is set (they beat right after), unless
 * `deaf` instances are listed: those keep reporting what they saw first.
 */
function setup(def: MigrationDefinition, options: { count?: number; seed?: (i: number) => Record<string, unknown>; clock?: ManualClock; deaf?: string[] } = {}) {
  const collection = new InMemoryCollection();
  for (let i = 0; i < (options.count ?? 25); i++) collection.insert(docId(i), (options.seed ?? customer)(i), 1);
  const backend = createInMemoryBackend(collection);
  const store = backend.store;
  const fleet = simulatedFleet(def, ['i1', 'i2']);
  const flags: FlagAdmin = {
    async set(flag, enabled) {
      await fleet.flags.set(flag, enabled);
      await fleet.beat(store);
      for (const instanceId of options.deaf ?? []) await store.heartbeats.beat(heartbeat(instanceId, { readMax: def.to }, {}, { service: def.service }), 60_000);
    },
  };
  const migrator = new Migrator({ registry: MigrationRegistry.create([def]), backend, flags, throttle: batches, owner: 'runner-1' });
  const events: { name: string; data: Record<string, unknown>; text: string }[] = [];
  const listener: OrchestratorListener = { event: (name, data, text) => events.push({ name, data, text }), progress: () => undefined };
  const stop = new AbortController();
  const orchestrator = new Orchestrator({ migrator, who: ops, listener, clock: options.clock, signal: stop.signal, commandPollMs: 5 });
  const named = (name: string) => events.filter((e) => e.name === name);
  const actions = async () => (await store.audit.list(def.id)).map((e) => e.action);
  return { collection, store, fleet, migrator, orchestrator, events, named, actions, stop };
}

describe('Orchestrator', () => {
  describe('walk', () => {
    it('walks an expand-contract migration to complete: each phase runs its job, advances once the gates hold, and waits until every instance reports the flags', async () => {
      const def = fullNameMigration();
      const { collection, store, fleet, orchestrator, named, actions } = setup(def);
      await fleet.beat(store);

      const walked = await orchestrator.walk(def.id, quick);

      expect(walked).toMatchObject({ kind: 'reached', phase: 'complete' });
      expect(walked.transitions.map((t) => t.to)).toEqual(['expand', 'dual-write', 'backfill', 'verify', 'switch-reads', 'contract', 'complete']);
      expect(named('job-start').map((e) => e.data['job'])).toEqual(['backfill', 'verify', 'contract']);
      expect(collection.all().every((i) => i.version === 2 && !('firstName' in i.doc) && i.doc['fullName'])).toBe(true);
      // One flags-seen per phase change that flips a flag: dual-write, switch-reads, contract.
      expect((await actions()).filter((a) => a === 'flags-seen')).toHaveLength(3);
      expect(named('flags-seen').map((e) => e.data['phase'])).toEqual(['dual-write', 'switch-reads', 'contract']);
    });

    it('stops in the phase given as its target, and a second walk goes on from there', async () => {
      const def = fullNameMigration();
      const { store, fleet, orchestrator, migrator } = setup(def);
      await fleet.beat(store);

      expect(await orchestrator.walk(def.id, { ...quick, to: 'backfill' })).toMatchObject({ kind: 'reached', phase: 'backfill' });
      expect((await migrator.phaseMachine.state(def.id)).phase).toBe('backfill');
      expect(await orchestrator.walk(def.id, { ...quick, to: 'expand' })).toEqual({ kind: 'reached', phase: 'backfill', transitions: [] });
      expect(await orchestrator.walk(def.id, { ...quick, to: 'verify' })).toMatchObject({ kind: 'reached', phase: 'verify', transitions: [{ from: 'backfill', to: 'verify' }] });
    });

    it('refuses a target that is not on the migration’s path', async () => {
      const def = tierMigration('eager', { from: 1, to: 2 });
      const { orchestrator } = setup(def);
      await expect(orchestrator.walk(def.id, { ...quick, to: 'contract' })).rejects.toMatchObject({ kind: 'refused', message: expect.stringContaining('contract is not on its path') });
    });

    it('runs no backfill for a lazy additive migration and leaves its documents at rest, but still verifies them', async () => {
      const def = tierMigration('lazy', { from: 1, to: 2 });
      const { collection, store, fleet, orchestrator, named } = setup(def);
      await fleet.beat(store);

      expect(await orchestrator.walk(def.id, quick)).toMatchObject({ kind: 'reached', phase: 'complete' });
      expect(named('job-start').map((e) => e.data['job'])).toEqual(['verify']);
      expect(collection.all().every((i) => i.version === 1)).toBe(true);
    });

    it('backfills an eager additive migration', async () => {
      const def = tierMigration('eager', { from: 1, to: 2 });
      const { collection, store, fleet, orchestrator, named } = setup(def);
      await fleet.beat(store);

      await orchestrator.walk(def.id, quick);
      expect(named('job-start').map((e) => e.data['job'])).toEqual(['backfill', 'verify']);
      expect(collection.all().every((i) => i.version === 2)).toBe(true);
    });

    it('ends with the unfinished job when a backfill quarantines documents, and does not advance', async () => {
      const def = fullNameMigration();
      const seed = (i: number) => (i === 3 ? { firstName: 7 } : customer(i));
      const { store, fleet, orchestrator, migrator } = setup(def, { seed });
      await fleet.beat(store);

      const walked = await orchestrator.walk(def.id, quick);

      expect(walked).toMatchObject({ kind: 'job-unfinished', phase: 'backfill', job: 'backfill', outcome: { quarantined: 1, result: { status: 'done' } } });
      expect((await migrator.phaseMachine.state(def.id)).phase).toBe('backfill');
    });

    it('stops at once, as needing a person, when the only failing gate is the quarantine', async () => {
      const def = fullNameMigration();
      const { store, fleet, orchestrator } = setup(def);
      await fleet.beat(store);
      await orchestrator.walk(def.id, { ...quick, to: 'backfill' });
      await orchestrator.startJob(def.id, 'backfill');
      await store.quarantine.put({ migrationId: def.id, docId: docId(1), reason: 'fixed by hand later', stage: 'verify', at: new Date() });

      const err = await orchestrator.walk(def.id, quick).catch((e: unknown) => e);

      expect(err).toBeInstanceOf(OrchestrationError);
      expect(err).toMatchObject({ kind: 'needs-person', details: { phase: 'backfill', failingGates: [{ gate: 'quarantine-empty', detail: '1 quarantined document(s)' }] } });
    });

    it('refuses to walk a paused migration, and stops when rolled back', async () => {
      const def = fullNameMigration();
      const { store, fleet, orchestrator, migrator } = setup(def);
      await fleet.beat(store);
      await orchestrator.walk(def.id, { ...quick, to: 'expand' });
      await setCommand(store, def.id, 'pause');
      await expect(orchestrator.walk(def.id, quick)).rejects.toMatchObject({ kind: 'stopped', message: `${def.id} is paused; run \`zdm resume ${def.id}\` first` });

      await migrator.rollback(def.id, ops);
      await expect(orchestrator.walk(def.id, quick)).rejects.toMatchObject({ kind: 'stopped', message: `${def.id} is rolled back; nothing to run` });
    });

    it('waits for a gate on the clock and gives up after the timeout, naming the failing gate', async () => {
      const def = fullNameMigration();
      const clock = new ManualClock();
      const { store, orchestrator, named } = setup(def, { clock });
      // One instance still reads only v1: expand cannot be left.
      await store.heartbeats.beat(heartbeat('old-1', { readMax: 1 }), 600_000);
      const walking = orchestrator.walk(def.id, { timeoutMs: 10_000, pollMs: 1_000 }).catch((e: unknown) => e);

      await clock.advance(9_000);
      expect(named('waiting')).toHaveLength(1);
      await clock.advance(2_000);
      const err = await walking;

      expect(err).toMatchObject({ kind: 'refused', details: { phase: 'expand', failingGates: [{ gate: 'all-instances-read-new', detail: 'not yet: old-1 (build-old-1)' }] } });
      expect((err as Error).message).toContain('gave up after 10s');
    });

    it('stops while waiting when its signal aborts', async () => {
      const def = fullNameMigration();
      const clock = new ManualClock();
      const { store, orchestrator, stop } = setup(def, { clock });
      await store.heartbeats.beat(heartbeat('old-1', { readMax: 1 }), 600_000);
      const walking = orchestrator.walk(def.id, { timeoutMs: 60_000, pollMs: 1_000 }).catch((e: unknown) => e);
      await clock.advance(1_500);

      stop.abort();

      expect(await walking).toMatchObject({ kind: 'stopped', message: `${def.id}: stopped by signal while waiting to leave expand` });
    });
  });

  describe('confirmFlags', () => {
    it('fails naming each instance that does not report a flipped flag in time, and records flags-not-seen; the phase change stays', async () => {
      const def = fullNameMigration();
      const clock = new ManualClock();
      const { store, fleet, orchestrator, migrator, actions } = setup(def, { clock, deaf: ['i9'] });
      await fleet.beat(store);
      await orchestrator.advance(def.id);

      const advancing = orchestrator.advanceAndConfirm(def.id, { timeoutMs: 5_000, pollMs: 500 }).catch((e: unknown) => e);
      await clock.advance(6_000);
      const err = await advancing;

      expect(err).toMatchObject({ kind: 'refused', details: { phase: 'dual-write', lagging: [{ instanceId: 'i9', reports: `${flagNames(def.id).writeNew}=?` }] } });
      expect((err as Error).message).toContain(`moved to dual-write and set ${flagNames(def.id).writeNew}=on`);
      expect(await actions()).toContain('flags-not-seen');
      expect((await migrator.phaseMachine.state(def.id)).phase).toBe('dual-write');
    });

    it('returns null without waiting when the phase change flips no flag', async () => {
      const def = fullNameMigration();
      const { orchestrator } = setup(def);
      expect(await orchestrator.confirmFlags(def, 'backfill', 'verify', quick)).toBeNull();
    });
  });

  describe('startJob', () => {
    it('refuses a job outside its phases, saying which phases allow it', async () => {
      const def = fullNameMigration();
      const { store, fleet, orchestrator } = setup(def);
      await fleet.beat(store);
      await orchestrator.advance(def.id);

      await expect(orchestrator.startJob(def.id, 'backfill')).rejects.toMatchObject({
        kind: 'refused',
        message: `${def.id}: backfill runs in phase backfill or verify, but the migration is in expand; advance first (zdm advance / zdm run)`,
        details: { phase: 'expand', allowedPhases: ['backfill', 'verify'] },
      });
    });

    it('refuses while an operator has aborted the migration', async () => {
      const def = fullNameMigration();
      const { store, orchestrator } = setup(def);
      await setCommand(store, def.id, 'abort');
      await expect(orchestrator.startJob(def.id, 'backfill')).rejects.toMatchObject({ kind: 'stopped', details: { runnerCommand: 'abort' } });
    });
  });
});

describe('dueJob', () => {
  const def = fullNameMigration();
  const counts = { belowTarget: 0, withOldFields: 0 };
  const at = (iso: string) => new Date(iso);

  it('asks for a backfill until one pass finished and nothing is below the target', () => {
    expect(dueJob(def, { phase: 'backfill', counts, verify: null }, { backfillDoneAt: null })).toBe('backfill');
    expect(dueJob(def, { phase: 'backfill', counts: { ...counts, belowTarget: 2 }, verify: null }, { backfillDoneAt: at('2025-01-01') })).toBe('backfill');
    expect(dueJob(def, { phase: 'backfill', counts, verify: null }, { backfillDoneAt: at('2025-01-01') })).toBeNull();
  });

  it('never asks a lazy additive migration for a backfill', () => {
    expect(dueJob(tierMigration('lazy'), { phase: 'backfill', counts: { ...counts, belowTarget: 9 }, verify: null }, { backfillDoneAt: null })).toBeNull();
  });

  it('asks for a verify pass when none ran, when it found mismatches, or when it is older than the last backfill pass', () => {
    const verify = { at: at('2025-01-02'), checked: 5, mismatches: 0, shadowMismatches: 0 };
    expect(dueJob(def, { phase: 'verify', counts, verify: null }, { backfillDoneAt: null })).toBe('verify');
    expect(dueJob(def, { phase: 'verify', counts, verify: { ...verify, mismatches: 1 } }, { backfillDoneAt: null })).toBe('verify');
    expect(dueJob(def, { phase: 'verify', counts, verify }, { backfillDoneAt: at('2025-01-03') })).toBe('verify');
    expect(dueJob(def, { phase: 'verify', counts, verify }, { backfillDoneAt: at('2025-01-01') })).toBeNull();
  });

  it('asks for a contract while documents keep removed fields, and for nothing in other phases', () => {
    expect(dueJob(def, { phase: 'contract', counts: { ...counts, withOldFields: 1 }, verify: null }, { backfillDoneAt: null })).toBe('contract');
    expect(dueJob(def, { phase: 'contract', counts, verify: null }, { backfillDoneAt: null })).toBeNull();
    expect(dueJob(def, { phase: 'switch-reads', counts: { belowTarget: 3, withOldFields: 3 }, verify: null }, { backfillDoneAt: null })).toBeNull();
  });
});
