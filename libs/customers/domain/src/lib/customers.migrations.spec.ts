import { Doc, backfillStep, contractStep, downStep, flagNames, phasesOf, roundTripCheck, verifyStep } from '@zdm/migrations-core';
import { customersReadRange, customersRegistry, fullNameMigration, statusMigration } from './customers.migrations';

const v1 = (firstName: unknown, lastName: unknown, extra: Doc = {}): Doc => ({ _id: 'x', firstName, lastName, ...extra });
const item = (doc: Doc, version: number) => ({ id: String(doc['_id']), version, doc, cas: null });

describe('customers migrations', () => {
  it('registers v1 -> v2 -> v3 on the customers collection, read by this build from v1 to v3', () => {
    const registry = customersRegistry();
    expect(registry.path('customers', 1, 3).map((d) => d.id)).toEqual(['customers.full-name', 'customers.status']);
    expect(customersReadRange(registry)).toEqual({ readMin: 1, readMax: 3 });
    expect(flagNames(fullNameMigration.id)).toEqual({
      writeNew: 'customers.full-name.write-new',
      readNew: 'customers.full-name.read-new',
      writeOld: 'customers.full-name.write-old',
    });
  });

  describe('full-name (v1 -> v2)', () => {
    it('adds fullName and firstNameLength and keeps the old fields until contract', () => {
      expect(fullNameMigration.up(v1('Mary Ann', 'Evans', { createdAt: 1 }))).toEqual({
        _id: 'x',
        firstName: 'Mary Ann',
        lastName: 'Evans',
        fullName: 'Mary Ann Evans',
        firstNameLength: 8,
        createdAt: 1,
      });
    });

    it('goes through every expand/contract phase', () => {
      expect(phasesOf(fullNameMigration)).toEqual(['pending', 'expand', 'dual-write', 'backfill', 'verify', 'switch-reads', 'contract', 'complete']);
    });

    it('round-trips exactly through up, contract and down, spaces inside parts included', () => {
      const sample = [v1('Ludwig', 'van Beethoven'), v1('Mary Ann', 'Evans'), v1('Cher', ''), v1('', 'Prince'), v1(' padded ', ' name ')].map((doc, i) => ({ id: String(i), doc }));
      expect(roundTripCheck(fullNameMigration, sample)).toEqual({ reversible: true, sampled: 5, failures: [] });
    });

    it('quarantines a v1 document without string names at backfill, with the reason', () => {
      expect(backfillStep(fullNameMigration)(item(v1('Ada', undefined), 1))).toEqual({
        kind: 'quarantine',
        reason: 'up threw: firstName and lastName must be strings, got string and undefined',
      });
    });

    it('verifies that fullName is the names joined while both shapes are stored, and that it is well formed after contract', () => {
      const verify = verifyStep(fullNameMigration);
      const good = fullNameMigration.up(v1('Ada', 'Lovelace'));
      expect(verify(item(good, 2))).toEqual({ kind: 'skip' });
      expect(verify(item({ ...good, fullName: 'Ada King' }, 2))).toMatchObject({ kind: 'quarantine', reason: expect.stringContaining('is not firstName and lastName joined') });
      expect(verify(item({ ...good, firstNameLength: 4 }, 2))).toMatchObject({ kind: 'quarantine' });
      const contracted = contractStep(fullNameMigration)(item(good, 2));
      expect(contracted).toEqual({ kind: 'write', doc: { _id: 'x', fullName: 'Ada Lovelace', firstNameLength: 3 }, version: 2 });
      expect(verify(item((contracted as { doc: Doc }).doc, 2))).toEqual({ kind: 'skip' });
    });

    it('rolls a contracted document back to exactly the v1 parts', () => {
      const step = downStep(fullNameMigration)(item({ _id: 'x', fullName: 'Ludwig van Beethoven', firstNameLength: 6 }, 2));
      expect(step).toEqual({ kind: 'write', doc: { _id: 'x', firstName: 'Ludwig', lastName: 'van Beethoven' }, version: 1 });
    });
  });

  describe('status (v2 -> v3, additive)', () => {
    it('needs no dual-write, switch-reads or contract: expand, backfill, verify', () => {
      expect(phasesOf(statusMigration)).toEqual(['pending', 'expand', 'backfill', 'verify', 'complete']);
      expect(statusMigration.removedFields ?? []).toEqual([]);
    });

    it('adds status "Active" and marketingPreferences null, and down removes exactly those', () => {
      const v2 = fullNameMigration.up(v1('Ada', 'Lovelace'));
      const v3 = statusMigration.up(v2);
      expect(v3).toEqual({ ...v2, status: 'Active', marketingPreferences: null });
      expect(statusMigration.down?.(v3)).toEqual(v2);
    });

    it('verifies the status and the preferences', () => {
      const verify = verifyStep(statusMigration);
      expect(verify(item({ status: 'Active', marketingPreferences: { email: true, sms: false } }, 3))).toEqual({ kind: 'skip' });
      expect(verify(item({ status: 'Gone', marketingPreferences: null }, 3))).toMatchObject({ kind: 'quarantine', reason: 'verify failed: status must be one of Active, Inactive, Blocked' });
      expect(verify(item({ status: 'Active', marketingPreferences: { email: 'yes', sms: false } }, 3))).toMatchObject({ kind: 'quarantine' });
    });
  });
});
