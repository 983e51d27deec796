import { gatesToLeave, GateResult } from './gates';
import { dueJob, phaseRefusal } from './jobs';
import { MigrationDefinitionError, MigrationRegistry } from './migration-registry';
import { flagNames, hasShortPath, lazyOnlyOf } from './migration.types';
import { describePhase, flagsForPhase, phasesOf } from './phases';
import { heartbeat, pinHashMigration, seenFlags } from './testing/migration.fixtures';

const def = pinHashMigration();
const clean = { belowTarget: 0, withOldFields: 0, quarantined: 0 };
const passedVerify = { at: new Date('2026-01-01T00:00:00Z'), checked: 10, mismatches: 0, shadowMismatches: 0 };
/** A build that reads v1..v2, writes v2 and sees write-new on. */
const upgraded = [heartbeat('a', { writes: 2 }, seenFlags(def.id, { writeNew: true }))];
const failing = (results: GateResult[]) => results.filter((g) => !g.ok).map((g) => g.gate);

describe('the lazy-only strategy', () => {
  it('walks the short path: no dual-write, switch-reads or contract, since nothing is removed', () => {
    expect(hasShortPath(def)).toBe(true);
    expect(lazyOnlyOf(def)?.upgradedWhen).toBe('at the next use of the PIN');
    expect(phasesOf(def)).toEqual(['pending', 'expand', 'backfill', 'verify', 'complete']);
    expect(flagsForPhase(def, 'expand')).toEqual({ [flagNames(def.id).writeNew]: false });
    expect(flagsForPhase(def, 'backfill')).toEqual({ [flagNames(def.id).writeNew]: true });
  });

  it('says in the plan that the backfill phase has no backfill and when documents are upgraded', () => {
    expect(describePhase(def, 'backfill')).toBe(
      'no backfill (v2 cannot be computed from a stored document): writers store v2, and each v1 document is upgraded at the next use of the PIN; the phase holds until none is left (`zdm lazy expire` expires the rest)',
    );
  });

  describe('gates', () => {
    it('hold the backfill phase while a document is below the target version, naming the count and the way out', () => {
      const results = gatesToLeave(def, 'backfill', { instances: upgraded, counts: { ...clean, belowTarget: 3 } });
      expect(failing(results)).toEqual(['no-old-version-left']);
      expect(results.find((g) => g.gate === 'no-old-version-left')?.detail).toBe(
        '3 document(s) still below v2, each upgraded at the next use of the PIN; `zdm lazy expire customers.pin-hash --before <deadline>` expires the rest',
      );
      expect(failing(gatesToLeave(def, 'backfill', { instances: upgraded, counts: clean }))).toEqual([]);
    });

    it('also need every instance to write the new version before the backfill phase ends', () => {
      const old = [heartbeat('a', { writes: 1 }, seenFlags(def.id, { writeNew: false }))];
      expect(failing(gatesToLeave(def, 'backfill', { instances: old, counts: clean }))).toEqual(['write-new-flag-seen', 'no-instance-writes-old']);
    });

    it('hold the verify phase too while a document is below the target version, even after a clean verify pass', () => {
      const results = gatesToLeave(def, 'verify', { instances: upgraded, counts: { ...clean, belowTarget: 1 }, verify: passedVerify });
      expect(failing(results)).toEqual(['no-old-version-left']);
      expect(failing(gatesToLeave(def, 'verify', { instances: upgraded, counts: clean, verify: passedVerify }))).toEqual([]);
    });
  });

  describe('jobs', () => {
    it('refuses a backfill in every phase, saying why', () => {
      for (const phase of ['pending', 'backfill', 'verify'] as const) {
        expect(phaseRefusal(def, 'backfill', phase)?.message).toBe(
          'customers.pin-hash is lazy-only: it cannot be backfilled (each document is upgraded at the next use of the PIN); `zdm lazy expire customers.pin-hash` deals with the documents nobody upgraded',
        );
      }
      expect(phaseRefusal(def, 'verify', 'verify')).toBeNull();
    });

    it('has no job due in the backfill phase, however many documents remain', () => {
      expect(dueJob(def, { phase: 'backfill', counts: { belowTarget: 5, withOldFields: 0 }, verify: null }, { backfillDoneAt: null })).toBeNull();
      expect(dueJob(def, { phase: 'verify', counts: { belowTarget: 0, withOldFields: 0 }, verify: null }, { backfillDoneAt: null })).toBe('verify');
    });
  });

  describe('registration', () => {
    const problems = (overrides: Parameters<typeof pinHashMigration>[0]) => {
      try {
        MigrationRegistry.create([pinHashMigration(overrides)]);
        return [];
      } catch (err) {
        return (err as MigrationDefinitionError).problems.map((p) => `${p.migrationId}: ${p.message}`);
      }
    };

    it('accepts a lazy-only migration that says when documents are upgraded', () => {
      expect(problems({})).toEqual([]);
    });

    it('refuses one that does not say when documents are upgraded, or removes fields, or has an expire that is no function', () => {
      expect(problems({ strategy: { kind: 'lazy-only', upgradedWhen: ' ' } })).toEqual([
        'customers.pin-hash: a lazy-only migration must say when documents are upgraded (strategy.upgradedWhen)',
      ]);
      expect(problems({ removedFields: ['pin'] })).toEqual(['customers.pin-hash: a lazy-only migration cannot remove fields; use expand-contract']);
      expect(problems({ strategy: { kind: 'lazy-only', upgradedWhen: 'later', expire: 'no' as never } })).toEqual(['customers.pin-hash: strategy.expire must be a function when given']);
    });
  });
});
