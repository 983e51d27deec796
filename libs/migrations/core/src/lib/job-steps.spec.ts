import { TargetItem } from './backfill-runner';
import { backfillStep, contractStep, downStep, roundTripCheck, unexpandStep, verifyFailure, verifyStep } from './job-steps';
import { Doc } from './migration.types';
import { customer, fullNameMigration, tierMigration } from './testing/migration.fixtures';

const def = fullNameMigration();
const item = (version: number, doc: Doc, id = 'c1'): TargetItem => ({ id, version, doc, cas: { rev: 0 } });
const v2 = (doc: Doc = customer(1)): Doc => ({ ...doc, fullName: `${doc['firstName']} ${doc['lastName']}` });

describe('verifyFailure', () => {
  it('is null when verify holds or there is no verify', () => {
    expect(verifyFailure(def, { fullName: 'Ada Lovelace' })).toBeNull();
    expect(verifyFailure(fullNameMigration({ verify: undefined }), {})).toBeNull();
  });

  it('gives the reason verify returned, or says it threw', () => {
    expect(verifyFailure(def, { fullName: ' ' })).toBe('verify failed: fullName is empty');
    expect(verifyFailure(fullNameMigration({ verify: () => '' }), {})).toBe('verify failed: returned false');
    const throwing = fullNameMigration({ verify: () => { throw new Error('no fullName'); } });
    expect(verifyFailure(throwing, {})).toBe('verify threw: no fullName');
  });
});

describe('backfillStep', () => {
  const step = backfillStep(def);

  it('writes up(doc) at the target version, keeping the old fields', () => {
    expect(step(item(1, customer(1)))).toEqual({ kind: 'write', doc: { firstName: 'First1', lastName: 'Last1', fullName: 'First1 Last1' }, version: 2 });
  });

  it('skips items already at or above the target version', () => {
    expect(step(item(2, v2()))).toEqual({ kind: 'skip' });
    expect(step(item(3, v2()))).toEqual({ kind: 'skip' });
  });

  it('quarantines an item below its from version, pointing at the earlier step', () => {
    const later = backfillStep(tierMigration('eager'));
    expect(later(item(1, customer(1)))).toEqual({ kind: 'quarantine', reason: "at version 1, below this step's from (2); run the earlier step first" });
  });

  it('quarantines when up throws, when up returns nothing, and when the result fails verify', () => {
    expect(step(item(1, { lastName: 'X' }))).toEqual({ kind: 'quarantine', reason: 'up threw: firstName is missing' });
    expect(backfillStep(fullNameMigration({ up: () => null as never }))(item(1, customer(1)))).toEqual({ kind: 'quarantine', reason: 'up returned no document' });
    expect(step(item(1, { firstName: '', lastName: '' }))).toEqual({ kind: 'quarantine', reason: 'verify failed: fullName is empty' });
  });
});

describe('verifyStep', () => {
  const step = verifyStep(def);

  it('passes an item at the target version that satisfies verify', () => {
    expect(step(item(2, v2()))).toEqual({ kind: 'skip' });
  });

  it('quarantines an item still below the target version', () => {
    expect(step(item(1, customer(1)))).toEqual({ kind: 'quarantine', reason: 'still at version 1, expected 2' });
  });

  it('quarantines an item that fails verify', () => {
    expect(step(item(2, { fullName: '' }))).toEqual({ kind: 'quarantine', reason: 'verify failed: fullName is empty' });
  });

  it('only checks the version when the migration has no verify', () => {
    expect(verifyStep(fullNameMigration({ verify: undefined }))(item(2, {}))).toEqual({ kind: 'skip' });
  });

  it('accepts from-version items of a lazy additive migration when their upcast passes verify', () => {
    const lazy = verifyStep(tierMigration('lazy'));
    expect(lazy(item(2, v2()))).toEqual({ kind: 'skip' });
    expect(lazy(item(3, { ...v2(), tier: 'gold' }))).toEqual({ kind: 'skip' });
    expect(lazy(item(3, { ...v2(), tier: 'platinum' }))).toEqual({ kind: 'quarantine', reason: 'verify failed: unknown tier platinum' });
    expect(lazy(item(1, customer(1)))).toEqual({ kind: 'quarantine', reason: 'still at version 1, expected 3' });
    const failingUp = verifyStep(tierMigration('lazy', { up: (doc) => ({ ...doc, tier: 'bronze' }) }));
    expect(failingUp(item(2, v2()))).toEqual({ kind: 'quarantine', reason: 'verify failed: unknown tier bronze' });
  });

  it('still requires every item at the target version for an eager additive migration', () => {
    expect(verifyStep(tierMigration('eager'))(item(2, v2()))).toEqual({ kind: 'quarantine', reason: 'still at version 2, expected 3' });
  });
});

describe('contractStep', () => {
  const step = contractStep(def);

  it('removes the old fields and keeps the version', () => {
    expect(step(item(2, v2()))).toEqual({ kind: 'write', doc: { fullName: 'First1 Last1' }, version: 2 });
  });

  it('skips an item that has no old field left', () => {
    expect(step(item(2, { fullName: 'First1 Last1' }))).toEqual({ kind: 'skip' });
  });

  it('removes an old field even when only one of them is left', () => {
    expect(step(item(2, { fullName: 'A B', lastName: 'B' }))).toEqual({ kind: 'write', doc: { fullName: 'A B' }, version: 2 });
  });

  it('quarantines an item that was never backfilled instead of dropping its only copy of the data', () => {
    expect(step(item(1, customer(1)))).toEqual({ kind: 'quarantine', reason: 'at version 1 during contract; backfill it first' });
  });
});

describe('downStep', () => {
  const step = downStep(def);

  it('rewrites a contracted item with down() at the from version', () => {
    expect(step(item(2, { fullName: 'Ada Lovelace', email: 'a@x' }))).toEqual({
      kind: 'write',
      doc: { email: 'a@x', firstName: 'Ada', lastName: 'Lovelace' },
      version: 1,
    });
  });

  it('skips items already below the target version', () => {
    expect(step(item(1, customer(1)))).toEqual({ kind: 'skip' });
  });

  it('quarantines items above the target version and items down() cannot handle', () => {
    expect(step(item(3, {}))).toEqual({ kind: 'quarantine', reason: "at version 3, above this step's to (2)" });
    expect(step(item(2, {}))).toEqual({ kind: 'quarantine', reason: expect.stringMatching(/^down threw: /) });
  });

  it('refuses to build a step for an irreversible migration, saying why', () => {
    expect(() => downStep(fullNameMigration({ down: undefined }))).toThrow('customers.full-name has no down(); it cannot be rolled back past contract');
  });
});

describe('unexpandStep', () => {
  const step = unexpandStep(def);

  it('drops the added fields and stamps the from version, leaving the intact old fields', () => {
    expect(step(item(2, v2()))).toEqual({ kind: 'write', doc: customer(1), version: 1 });
  });

  it('skips items still at the from version', () => {
    expect(step(item(1, customer(1)))).toEqual({ kind: 'skip' });
  });

  it('quarantines items a later step already moved past the target version', () => {
    expect(step(item(3, v2()))).toEqual({ kind: 'quarantine', reason: "at version 3, above this step's to (2)" });
  });
});

describe('roundTripCheck', () => {
  const sample = [0, 1, 2].map((i) => ({ id: `c${i}`, doc: customer(i) }));

  it('finds down(up(doc)) equal to doc for a reversible migration, ignoring key order', () => {
    const reordered = fullNameMigration({
      down: (doc) => ({ lastName: String(doc['fullName']).split(' ')[1], firstName: String(doc['fullName']).split(' ')[0] }),
    });
    expect(roundTripCheck(reordered, sample)).toEqual({ reversible: true, sampled: 3, failures: [] });
  });

  it('compares against the contracted shape, so a down() that relied on old fields fails', () => {
    const cheating = fullNameMigration({ down: (doc) => ({ firstName: doc['firstName'], lastName: doc['lastName'] }) });
    const report = roundTripCheck(cheating, sample);
    expect(report.reversible).toBe(false);
    expect(report.failures.map((f) => f.id)).toEqual(['c0', 'c1', 'c2']);
  });

  it('names each document whose round trip loses information', () => {
    const report = roundTripCheck(def, [...sample, { id: 'two-words', doc: { firstName: 'Mary Ann', lastName: 'Smith' } }]);
    expect(report.reversible).toBe(false);
    expect(report.sampled).toBe(4);
    expect(report.failures).toEqual([{ id: 'two-words', reason: expect.stringContaining('down(up(doc)) differs') }]);
  });

  it('reports a throwing up or down as a failure of that document', () => {
    const report = roundTripCheck(def, [{ id: 'broken', doc: { lastName: 'X' } }]);
    expect(report.failures).toEqual([{ id: 'broken', reason: 'threw: firstName is missing' }]);
  });

  it('reports a migration without down() as irreversible, saying so', () => {
    expect(roundTripCheck(fullNameMigration({ down: undefined }), sample)).toEqual({
      reversible: false,
      sampled: 0,
      failures: [{ id: '-', reason: 'customers.full-name has no down(): irreversible past contract' }],
    });
  });
});
