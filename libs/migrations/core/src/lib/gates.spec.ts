import { GateInput, GateRefusedError, GateResult, gatesToLeave } from './gates';
import { InstanceHeartbeat, MigrationDefinition } from './migration.types';
import { Phase } from './phases';
import { fullNameMigration, heartbeat, seenFlags, tierMigration } from './testing/migration.fixtures';

const def = fullNameMigration();
const id = def.id;
const clean = { belowTarget: 0, withOldFields: 0, quarantined: 0 };
const passedVerify = { at: new Date('2025-01-01T00:00:00Z'), checked: 10, mismatches: 0, shadowMismatches: 0 };

/** A new build that reads v1..v2 and writes v2, seeing the flags given. */
const newBuild = (instanceId: string, flags = {}, schema = {}) => heartbeat(instanceId, { writes: 2, ...schema }, flags);

function gates(phase: Phase, input: Partial<GateInput>, migration: MigrationDefinition = def): GateResult[] {
  return gatesToLeave(migration, phase, { instances: [], counts: clean, ...input });
}
const names = (results: GateResult[]) => results.map((g) => g.gate);
const failing = (results: GateResult[]) => results.filter((g) => !g.ok).map((g) => g.gate);
const detailOf = (results: GateResult[], gate: string) => results.find((g) => g.gate === gate)?.detail;

describe('gatesToLeave', () => {
  describe('every phase', () => {
    it('needs at least one live instance of the owning service by default', () => {
      const results = gates('expand', { instances: [] });
      expect(failing(results)).toEqual(['instances-live']);
      expect(detailOf(results, 'instances-live')).toBe('0 live instance(s) of customers, need at least 1');
    });

    it('needs minInstances live instances when asked for more', () => {
      const two = [heartbeat('a'), heartbeat('b')];
      expect(failing(gates('expand', { instances: two, minInstances: 3 }))).toEqual(['instances-live']);
      expect(failing(gates('expand', { instances: two, minInstances: 2 }))).toEqual([]);
    });

    it('ignores heartbeats of other services, both for blocking and for counting', () => {
      const otherOldBuild = heartbeat('orders-1', { readMax: 1 }, {}, { service: 'orders' });
      expect(failing(gates('expand', { instances: [heartbeat('a'), otherOldBuild] }))).toEqual([]);
      expect(failing(gates('expand', { instances: [otherOldBuild] }))).toEqual(['instances-live']);
    });
  });

  describe('pending', () => {
    it('only checks that instances are live', () => {
      expect(names(gates('pending', { instances: [heartbeat('a')] }))).toEqual(['instances-live']);
    });
  });

  describe('expand', () => {
    it('holds when every live instance reads both versions', () => {
      const results = gates('expand', { instances: [heartbeat('a'), heartbeat('b', { readMax: 3 })] });
      expect(names(results)).toEqual(['instances-live', 'all-instances-read-new']);
      expect(failing(results)).toEqual([]);
      expect(detailOf(results, 'all-instances-read-new')).toBe('all 2 live instances read v1 and v2');
    });

    it('is blocked by an old build that reads only v1, naming the instance and its build', () => {
      const results = gates('expand', { instances: [heartbeat('a'), heartbeat('old-1', { readMax: 1 })] });
      expect(failing(results)).toEqual(['all-instances-read-new']);
      expect(detailOf(results, 'all-instances-read-new')).toBe('not yet: old-1 (build-old-1)');
    });

    it('is blocked by a build that no longer reads v1', () => {
      expect(failing(gates('expand', { instances: [heartbeat('a', { readMin: 2 })] }))).toEqual(['all-instances-read-new']);
    });

    it('is blocked by an instance that reports nothing for the target collection', () => {
      const blind = heartbeat('a', {}, {}, { schemas: { orders: { readMin: 1, readMax: 2, writes: 1 } } });
      expect(failing(gates('expand', { instances: [blind] }))).toEqual(['all-instances-read-new']);
    });
  });

  describe('dual-write', () => {
    const on = seenFlags(id, { writeNew: true });

    it('holds when every instance sees write-new on and writes v2', () => {
      const results = gates('dual-write', { instances: [newBuild('a', on), newBuild('b', on)] });
      expect(names(results)).toEqual(['instances-live', 'write-new-flag-seen', 'no-instance-writes-old']);
      expect(failing(results)).toEqual([]);
    });

    it('is blocked by an instance that does not see the write-new flag yet', () => {
      const results = gates('dual-write', { instances: [newBuild('a', on), newBuild('b', seenFlags(id, { writeNew: false }))] });
      expect(failing(results)).toEqual(['write-new-flag-seen']);
      expect(detailOf(results, 'write-new-flag-seen')).toContain('b (build-b)');
    });

    it('is blocked by an instance that reports no value for the flag', () => {
      expect(failing(gates('dual-write', { instances: [newBuild('a', {})] }))).toEqual(['write-new-flag-seen']);
    });

    it('is blocked by an instance still writing v1', () => {
      const results = gates('dual-write', { instances: [newBuild('a', on), heartbeat('stale', { writes: 1 }, on)] });
      expect(failing(results)).toEqual(['no-instance-writes-old']);
      expect(detailOf(results, 'no-instance-writes-old')).toBe('not yet: stale (build-stale)');
    });
  });

  describe('backfill', () => {
    const live = [newBuild('a', seenFlags(id, { writeNew: true }))];

    it('holds when no document is below v2 and nothing is quarantined', () => {
      const results = gates('backfill', { instances: live });
      expect(names(results)).toEqual(['instances-live', 'no-document-below-target', 'quarantine-empty']);
      expect(failing(results)).toEqual([]);
    });

    it('is blocked by documents below the target version, counting them', () => {
      const results = gates('backfill', { instances: live, counts: { ...clean, belowTarget: 7 } });
      expect(failing(results)).toEqual(['no-document-below-target']);
      expect(detailOf(results, 'no-document-below-target')).toBe('7 document(s) below v2');
    });

    it('is blocked by quarantined documents', () => {
      const results = gates('backfill', { instances: live, counts: { ...clean, quarantined: 2 } });
      expect(failing(results)).toEqual(['quarantine-empty']);
      expect(detailOf(results, 'quarantine-empty')).toBe('2 quarantined document(s)');
    });

    it('also requires the write switch for an additive eager migration, which has no dual-write phase', () => {
      const eager = tierMigration('eager');
      const v3 = (flags: Record<string, boolean>, writes = 3) => heartbeat('a', { readMax: 3, writes }, flags);
      const on = seenFlags(eager.id, { writeNew: true });
      expect(names(gates('backfill', { instances: [v3(on)] }, eager))).toEqual([
        'instances-live',
        'write-new-flag-seen',
        'no-instance-writes-old',
        'no-document-below-target',
        'quarantine-empty',
      ]);
      expect(failing(gates('backfill', { instances: [v3(on)] }, eager))).toEqual([]);
      expect(failing(gates('backfill', { instances: [v3({})] }, eager))).toEqual(['write-new-flag-seen']);
      expect(failing(gates('backfill', { instances: [v3(on, 2)] }, eager))).toEqual(['no-instance-writes-old']);
      expect(failing(gates('backfill', { instances: [v3(on)], counts: { ...clean, belowTarget: 1 } }, eager))).toEqual(['no-document-below-target']);
    });

    it('does not wait for documents below target in an additive lazy migration, which upcasts on read', () => {
      const lazy = tierMigration('lazy');
      const live3 = [heartbeat('a', { readMax: 3, writes: 3 }, seenFlags(lazy.id, { writeNew: true }))];
      const results = gates('backfill', { instances: live3, counts: { ...clean, belowTarget: 1000 } }, lazy);
      expect(names(results)).not.toContain('no-document-below-target');
      expect(failing(results)).toEqual([]);
      expect(failing(gates('backfill', { instances: live3, counts: { ...clean, quarantined: 1 } }, lazy))).toEqual(['quarantine-empty']);
    });
  });

  describe('verify', () => {
    const live = [newBuild('a')];

    it('holds after a verify pass with zero mismatches and an empty quarantine', () => {
      const results = gates('verify', { instances: live, verify: passedVerify });
      expect(names(results)).toEqual(['instances-live', 'verify-ran', 'verify-mismatches-zero', 'quarantine-empty']);
      expect(failing(results)).toEqual([]);
      expect(detailOf(results, 'verify-ran')).toBe('last verify at 2025-01-01T00:00:00.000Z checked 10');
    });

    it('is blocked when no verify pass was recorded', () => {
      const results = gates('verify', { instances: live, verify: null });
      expect(failing(results)).toEqual(['verify-ran', 'verify-mismatches-zero']);
      expect(detailOf(results, 'verify-ran')).toContain('run `zdm verify`');
    });

    it('is blocked by a verify pass older than the last backfill pass, however clean', () => {
      const backfillDoneAt = new Date(passedVerify.at.getTime() + 1);
      const results = gates('verify', { instances: live, verify: passedVerify, backfillDone: true, backfillDoneAt });
      expect(failing(results)).toEqual(['verify-ran']);
      expect(detailOf(results, 'verify-ran')).toBe('last verify at 2025-01-01T00:00:00.000Z is older than the last backfill pass (done at 2025-01-01T00:00:00.001Z); run `zdm verify` again');
      expect(failing(gates('verify', { instances: live, verify: passedVerify, backfillDone: true, backfillDoneAt: passedVerify.at }))).toEqual([]);
    });

    it('is blocked by verify mismatches', () => {
      const results = gates('verify', { instances: live, verify: { ...passedVerify, mismatches: 3 } });
      expect(failing(results)).toEqual(['verify-mismatches-zero']);
      expect(detailOf(results, 'verify-mismatches-zero')).toBe('3 verify mismatch(es), 0 shadow-read mismatch(es)');
    });

    it('is blocked by shadow-read mismatches even when the verify pass was clean', () => {
      const results = gates('verify', { instances: live, verify: { ...passedVerify, shadowMismatches: 1 } });
      expect(failing(results)).toEqual(['verify-mismatches-zero']);
    });

    it('is blocked by quarantined documents', () => {
      expect(failing(gates('verify', { instances: live, verify: passedVerify, counts: { ...clean, quarantined: 1 } }))).toEqual(['quarantine-empty']);
    });
  });

  describe('switch-reads', () => {
    it('holds when every instance sees read-new on', () => {
      const on = seenFlags(id, { writeNew: true, readNew: true });
      const results = gates('switch-reads', { instances: [newBuild('a', on), newBuild('b', on)] });
      expect(names(results)).toEqual(['instances-live', 'read-new-flag-seen']);
      expect(failing(results)).toEqual([]);
    });

    it('is blocked by an instance that does not see read-new yet', () => {
      const on = seenFlags(id, { writeNew: true, readNew: true });
      const results = gates('switch-reads', { instances: [newBuild('a', on), newBuild('lagging', seenFlags(id, { writeNew: true, readNew: false }))] });
      expect(failing(results)).toEqual(['read-new-flag-seen']);
      expect(detailOf(results, 'read-new-flag-seen')).toContain('lagging');
    });
  });

  describe('contract', () => {
    const off = seenFlags(id, { writeOld: false });

    it('holds when every instance sees write-old off and no document carries the old fields', () => {
      const results = gates('contract', { instances: [newBuild('a', off)] });
      expect(names(results)).toEqual(['instances-live', 'write-old-flag-off-seen', 'no-old-fields-left']);
      expect(failing(results)).toEqual([]);
    });

    it('is blocked by documents that still carry old fields, naming the fields', () => {
      const results = gates('contract', { instances: [newBuild('a', off)], counts: { ...clean, withOldFields: 4 } });
      expect(failing(results)).toEqual(['no-old-fields-left']);
      expect(detailOf(results, 'no-old-fields-left')).toBe('4 document(s) still carry firstName, lastName');
    });

    it('is blocked by an instance that still sees write-old on or reports nothing', () => {
      expect(failing(gates('contract', { instances: [newBuild('a', seenFlags(id, { writeOld: true }))] }))).toEqual(['write-old-flag-off-seen']);
      expect(failing(gates('contract', { instances: [newBuild('a', {})] }))).toEqual(['write-old-flag-off-seen']);
    });
  });

  describe.each<Phase>(['complete', 'rolled-back'])('%s', (phase) => {
    it('can never be left', () => {
      const results = gates(phase, { instances: [newBuild('a')] });
      expect(failing(results)).toEqual(['not-terminal']);
      expect(detailOf(results, 'not-terminal')).toBe(`${phase} is a final phase`);
    });
  });

  it('reports every failing gate of a phase together', () => {
    const stale: InstanceHeartbeat = heartbeat('stale', { writes: 1 });
    expect(failing(gates('dual-write', { instances: [stale], minInstances: 2 }))).toEqual([
      'instances-live',
      'write-new-flag-seen',
      'no-instance-writes-old',
    ]);
  });
});

describe('GateRefusedError', () => {
  it('names the migration, the phase and each failing gate with its detail', () => {
    const failingGates = gates('verify', { instances: [newBuild('a')], counts: { ...clean, quarantined: 1 } }).filter((g) => !g.ok);
    const err = new GateRefusedError(id, 'verify', failingGates);
    expect(err.name).toBe('GateRefusedError');
    expect(err.failing).toBe(failingGates);
    expect(err.message).toBe(
      'Cannot leave verify for customers.full-name; failing gate(s):\n' +
        '  - verify-ran: no verify pass recorded; run `zdm verify`\n' +
        '  - verify-mismatches-zero: no verify pass\n' +
        '  - quarantine-empty: 1 quarantined document(s)',
    );
  });
});
