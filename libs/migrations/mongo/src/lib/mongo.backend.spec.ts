import { fullNameMigration } from '@zdm/migrations-core/testing';
import { TargetItem, UndoRecord } from '@zdm/migrations-core';
import { toTargetItem } from './mongo-collection.target';
import { belowVersionFilter, jobFilter, mongoUnexpandStep, withAnyFieldFilter } from './mongo.backend';

const def = fullNameMigration();

function item(raw: Record<string, unknown>, undo?: UndoRecord): TargetItem {
  return { ...toTargetItem(raw), undo };
}

describe('toTargetItem', () => {
  it('reads the version from _v (1 when absent) and hides _v and _rev from the migration', () => {
    expect(toTargetItem({ _id: 'a', firstName: 'A', _v: 2, _rev: 9 })).toMatchObject({ id: '"a"', version: 2, doc: { _id: 'a', firstName: 'A' } });
    expect(toTargetItem({ _id: 7, firstName: 'A' })).toMatchObject({ id: '7', version: 1 });
  });

  it('marks a document with a _v that is not a version as malformed, with the reason', () => {
    expect(toTargetItem({ _id: 1, _v: null }).malformed).toBe("_v is null, not a positive integer; fix the document's version, then retry");
    expect(toTargetItem({ _id: 1, _v: 2.5 }).malformed).toContain('_v is 2.5');
  });
});

describe('mongoUnexpandStep', () => {
  const step = mongoUnexpandStep(def);

  it('removes what up added and asks for an absent _v when the undo record says so', () => {
    const undo: UndoRecord = { versionAbsent: true, added: ['fullName'], changed: [], removed: [] };
    const decided = step(item({ _id: 1, firstName: 'A', lastName: 'B', fullName: 'A B', _v: 2 }, undo));
    expect(decided).toEqual({ kind: 'write', doc: { _id: 1, firstName: 'A', lastName: 'B' }, version: 1 });
  });

  it('puts back fields up changed or removed, unless an application changed them since', () => {
    const undo: UndoRecord = {
      versionAbsent: false,
      added: [],
      changed: [
        { field: 'name', before: 'old', written: 'new' },
        { field: 'city', before: 'Oslo', written: 'OSLO' },
      ],
      removed: [{ field: 'legacy', before: 7 }],
    };
    const decided = step(item({ _id: 1, name: 'new', city: 'Bergen', _v: 2 }, undo));
    expect(decided).toEqual({ kind: 'write', doc: { _id: 1, name: 'old', city: 'Bergen', legacy: 7 }, version: 1 });
  });

  it('drops addedFields of a document written at v2 by the application (no undo record)', () => {
    expect(step(item({ _id: 1, firstName: 'A', lastName: 'B', fullName: 'A B', _v: 2, _rev: 3 }))).toEqual({
      kind: 'write',
      doc: { _id: 1, firstName: 'A', lastName: 'B' },
      version: 1,
    });
  });

  it('takes an added field off an older document, keeping its version', () => {
    expect(step(item({ _id: 1, firstName: 'A', lastName: 'B', fullName: 'stale', _v: 1, _rev: 2 }))).toEqual({
      kind: 'write',
      doc: { _id: 1, firstName: 'A', lastName: 'B' },
      version: 1,
    });
  });

  it('skips documents below v2 and quarantines documents above it', () => {
    expect(step(item({ _id: 1, firstName: 'A' }))).toEqual({ kind: 'skip' });
    expect(step(item({ _id: 1, _v: 3 }, { versionAbsent: true, added: [], changed: [], removed: [] }))).toMatchObject({ kind: 'quarantine' });
  });
});

describe('job filters', () => {
  it('selects what each job still has to touch', () => {
    expect(jobFilter(def, 'backfill')).toEqual(belowVersionFilter(2));
    expect(belowVersionFilter(2)).toEqual({ $or: [{ _v: { $not: { $type: 'number' } } }, { _v: { $lt: 2 } }] });
    expect(jobFilter(def, 'contract')).toEqual({ $or: [{ firstName: { $exists: true } }, { lastName: { $exists: true } }] });
    expect(jobFilter(def, 'unexpand')).toEqual({ $or: [{ _v: { $gte: 2 } }, { fullName: { $exists: true } }] });
    expect(jobFilter(def, 'down')).toEqual({ _v: { $gte: 2 } });
    expect(jobFilter(def, 'verify')).toEqual({});
    expect(withAnyFieldFilter([])).toEqual({ _id: { $exists: false } });
  });
});
