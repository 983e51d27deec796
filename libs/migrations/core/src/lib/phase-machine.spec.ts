import { DataCounts, GateRefusedError } from './gates';
import { createInMemoryControlStore } from './in-memory-control-store';
import { PhaseMachine } from './phase-machine';
import { MigrationRegistry, checksumOf } from './migration-registry';
import { flagNames } from './migration.types';
import { Phase } from './phases';
import { ControlStore } from './store.contract';
import { fullNameMigration, heartbeat, simulatedFleet, tierMigration } from './testing/migration.fixtures';

const def = fullNameMigration();
const id = def.id;
const f = flagNames(id);
const ops = { actor: 'alice', reason: 'ticket OPS-1' };

/** Catches the GateRefusedError an advance must throw. */
async function refusal(promise: Promise<unknown>): Promise<GateRefusedError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GateRefusedError);
  return err as GateRefusedError;
}

describe('PhaseMachine', () => {
  let store: ControlStore;
  let counts: DataCounts;
  let fleet: ReturnType<typeof simulatedFleet>;
  let machine: PhaseMachine;

  const make = (overrides: Partial<ConstructorParameters<typeof PhaseMachine>[0]> = {}) =>
    new PhaseMachine({
      registry: MigrationRegistry.create([def, tierMigration('eager')]),
      store,
      probe: { counts: async () => ({ ...counts }) },
      flags: fleet.flags,
      ...overrides,
    });

  beforeEach(() => {
    store = createInMemoryControlStore();
    counts = { belowTarget: 0, withOldFields: 0, quarantined: 0 };
    fleet = simulatedFleet(def);
    machine = make();
  });

  const phase = async () => (await machine.state(id)).phase;
  const actions = async () => (await store.audit.list(id)).map((e) => e.action);

  /** Makes the data and the fleet satisfy the gates of the current phase, then advances. */
  async function advanceWithGatesHeld(): Promise<Phase> {
    await fleet.beat(store);
    const current = await phase();
    counts = { belowTarget: 0, withOldFields: 0, quarantined: 0 };
    if (current === 'verify') await machine.recordVerify(id, { at: new Date(), checked: 5, mismatches: 0, shadowMismatches: 0 }, ops);
    return machine.advance(id, ops);
  }

  it('reports a fresh migration as pending, with its next phase, gates, counts and live instances of its service only', async () => {
    await store.heartbeats.beat(heartbeat('c1'), 60_000);
    await store.heartbeats.beat(heartbeat('o1', {}, {}, { service: 'orders' }), 60_000);
    counts.belowTarget = 12;
    const status = await machine.status(id);
    expect(status).toMatchObject({ id, phase: 'pending', next: 'expand', command: 'run', verify: null, counts: { belowTarget: 12 } });
    expect(status.instances.map((i) => i.instanceId)).toEqual(['c1']);
    expect(status.gates.map((g) => g.gate)).toEqual(['instances-live']);
    expect((await machine.state(id)).checksum).toBe(checksumOf(def));
  });

  it('leaves pending without any instance and records who did it and why', async () => {
    expect(await machine.advance(id, ops)).toBe('expand');
    expect(await phase()).toBe('expand');
    expect(fleet.flags.calls).toEqual([]);
    const audit = await store.audit.list(id);
    expect(audit).toEqual([
      { migrationId: id, at: audit[0].at, actor: 'alice', action: 'phase', reason: 'ticket OPS-1', details: { from: 'pending', to: 'expand' } },
    ]);
    expect(Date.now() - audit[0].at.getTime()).toBeLessThan(5_000);
  });

  it('refuses to advance with every failing gate named, and changes nothing', async () => {
    machine = make({ minInstances: 3 });
    await machine.advance(id, ops);
    await store.heartbeats.beat(heartbeat('new-1'), 60_000);
    await store.heartbeats.beat(heartbeat('old-1', { readMax: 1 }), 60_000);
    const err = await refusal(machine.advance(id, ops));
    expect(err.phase).toBe('expand');
    expect(err.migrationId).toBe(id);
    expect(err.failing.map((g) => g.gate)).toEqual(['instances-live', 'all-instances-read-new']);
    expect(err.message).toContain('instances-live: 2 live instance(s) of customers, need at least 3');
    expect(err.message).toContain('all-instances-read-new: not yet: old-1 (build-old-1)');
    expect(await phase()).toBe('expand');
    expect(fleet.flags.calls).toEqual([]);
    expect(await actions()).toEqual(['phase']);
  });

  it('ignores instances whose heartbeat expired', async () => {
    await machine.advance(id, ops);
    await fleet.beat(store);
    await store.heartbeats.beat(heartbeat('old-1', { readMax: 1 }, {}, { at: new Date(Date.now() - 120_000) }), 60_000);
    expect(await machine.advance(id, ops)).toBe('dual-write');
  });

  it('sets the flags of the next phase through the FlagAdmin, audits each flip, then records the phase', async () => {
    await machine.advance(id, ops);
    await fleet.beat(store);
    expect(await machine.advance(id, ops)).toBe('dual-write');
    expect(fleet.flags.calls).toEqual([{ flag: f.writeNew, enabled: true }]);
    const audit = await store.audit.list(id);
    expect(audit.slice(1).map((e) => [e.action, e.actor, e.reason, e.details])).toEqual([
      ['flag', 'alice', 'ticket OPS-1', { flag: f.writeNew, enabled: true, applied: true }],
      ['phase', 'alice', 'ticket OPS-1', { from: 'expand', to: 'dual-write' }],
    ]);
  });

  it('walks an expand/contract migration to complete, flipping write-new on, read-new on and write-old off in that order', async () => {
    const walked: Phase[] = [];
    while ((await machine.status(id)).next) walked.push(await advanceWithGatesHeld());
    expect(walked).toEqual(['expand', 'dual-write', 'backfill', 'verify', 'switch-reads', 'contract', 'complete']);
    expect(fleet.flags.calls).toEqual([
      { flag: f.writeNew, enabled: true },
      { flag: f.readNew, enabled: true },
      { flag: f.writeOld, enabled: false },
    ]);
    const err = await refusal(machine.advance(id, ops));
    expect(err.failing.map((g) => g.gate)).toEqual(['not-terminal']);
  });

  it('refuses to leave dual-write while an instance has not seen write-new, even though the flag was set', async () => {
    await advanceWithGatesHeld();
    await advanceWithGatesHeld();
    await store.heartbeats.beat(heartbeat('i2', { writes: 1 }, { [f.writeNew]: false }), 60_000);
    const err = await refusal(machine.advance(id, ops));
    expect(err.failing.map((g) => g.gate)).toEqual(['write-new-flag-seen', 'no-instance-writes-old']);
  });

  it('records flag flips as not applied when it has no FlagAdmin', async () => {
    machine = make({ flags: undefined });
    await machine.advance(id, ops);
    await fleet.beat(store);
    await machine.advance(id, ops);
    const flagEntry = (await store.audit.list(id)).find((e) => e.action === 'flag');
    expect(flagEntry?.details).toEqual({ flag: f.writeNew, enabled: true, applied: false });
  });

  it('refuses to advance a started migration whose code changed, naming both checksums', async () => {
    await machine.advance(id, ops);
    await fleet.beat(store);
    const edited = fullNameMigration({ up: (doc) => ({ ...doc, fullName: String(doc['lastName']) }) });
    const editedController = make({ registry: MigrationRegistry.create([edited]) });
    const err = await refusal(editedController.advance(id, ops));
    expect(err.failing.map((g) => g.gate)).toEqual(['checksum-unchanged']);
    expect(err.message).toContain(`started with checksum ${checksumOf(def)}, the code now has ${checksumOf(edited)}`);
    expect((await editedController.state(id)).checksum).toBe(checksumOf(def));
  });

  it('records pause, resume and abort commands for the runners, with the actor', async () => {
    await machine.command(id, 'pause', ops);
    expect((await machine.state(id)).command).toBe('pause');
    await machine.command(id, 'run', ops);
    await machine.command(id, 'abort', { actor: 'bob', reason: 'bad data' });
    expect((await machine.status(id)).command).toBe('abort');
    const audit = await store.audit.list(id);
    expect(audit.map((e) => [e.action, e.actor])).toEqual([
      ['pause', 'alice'],
      ['resume', 'alice'],
      ['abort', 'bob'],
    ]);
  });

  it('records verify reports and backfill completion in the state and the audit log', async () => {
    const report = { at: new Date(), checked: 40, mismatches: 1, shadowMismatches: 2 };
    await machine.recordVerify(id, report, ops);
    await machine.recordBackfillDone(id, ops);
    const state = await machine.state(id);
    expect(state.verify).toEqual(report);
    expect(Date.now() - (state.backfillDoneAt?.getTime() ?? 0)).toBeLessThan(5_000);
    expect((await store.audit.list(id)).map((e) => [e.action, e.details])).toEqual([
      ['verify', { checked: 40, mismatches: 1, shadowMismatches: 2 }],
      ['backfill-done', {}],
    ]);
  });

  it('refuses to overwrite a state someone else saved meanwhile', async () => {
    const save = store.state.save.bind(store.state);
    let raced = false;
    store.state.save = async (state, expected) => {
      if (!raced) {
        raced = true;
        await save({ ...state, command: 'pause' }, expected);
      }
      return save(state, expected);
    };
    await expect(machine.advance(id, ops)).rejects.toThrow(/customers.full-name was changed by someone else meanwhile \(revision 0\)/);
    expect((await machine.state(id)).command).toBe('pause');
  });

  describe('markRolledBack', () => {
    it('turns the flags back and marks the migration rolled back before contract', async () => {
      for (let i = 0; i < 5; i++) await advanceWithGatesHeld();
      expect(await phase()).toBe('switch-reads');
      fleet.flags.calls.length = 0;
      await machine.markRolledBack(id, ops);
      expect(await phase()).toBe('rolled-back');
      expect(fleet.flags.calls).toEqual([
        { flag: f.writeNew, enabled: false },
        { flag: f.readNew, enabled: false },
      ]);
      expect((await store.audit.list(id)).at(-1)).toMatchObject({ action: 'rollback', actor: 'alice', details: { from: 'switch-reads' } });
    });

    it('clears a pause or abort so nothing stays stuck after the rollback', async () => {
      await machine.command(id, 'abort', ops);
      await machine.markRolledBack(id, ops);
      expect((await machine.state(id)).command).toBe('run');
    });

    it('refuses an irreversible migration past contract, saying which fields are gone', async () => {
      const irreversible = fullNameMigration({ down: undefined });
      machine = make({ registry: MigrationRegistry.create([irreversible]) });
      for (let i = 0; i < 6; i++) await advanceWithGatesHeld();
      expect(await phase()).toBe('contract');
      const calls = fleet.flags.calls.length;
      await expect(machine.markRolledBack(id, ops)).rejects.toThrow(
        'customers.full-name is irreversible: it has no down(), and in contract the old fields (firstName, lastName) are gone, so old readers cannot come back',
      );
      expect(await phase()).toBe('contract');
      expect(fleet.flags.calls).toHaveLength(calls);
    });

    it('allows an irreversible migration to roll back before contract', async () => {
      machine = make({ registry: MigrationRegistry.create([fullNameMigration({ down: undefined })]) });
      for (let i = 0; i < 3; i++) await advanceWithGatesHeld();
      await machine.markRolledBack(id, ops);
      expect(await phase()).toBe('rolled-back');
    });

    it('refuses to roll back twice', async () => {
      await machine.markRolledBack(id, ops);
      await expect(machine.markRolledBack(id, ops)).rejects.toThrow('customers.full-name is already rolled back');
    });
  });
});
