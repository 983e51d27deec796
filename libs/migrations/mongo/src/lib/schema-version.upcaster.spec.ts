import { fullNameMigration } from '@zdm/migrations-core/testing';
import { Doc, MigrationDefinition, MigrationRegistry } from '@zdm/migrations-core';
import { UnreadableVersionError, UnwritableVersionError, UpcastEvent, createUpcaster, isUnreadableVersion } from './schema-version.upcaster';

const tier: MigrationDefinition = {
  id: 'customers.tier',
  description: 'adds tier',
  service: 'customers',
  target: { kind: 'mongo', collection: 'customers' },
  from: 2,
  to: 3,
  strategy: { kind: 'additive', backfill: 'lazy' },
  up: (doc) => ({ ...doc, tier: 'basic' }),
  addedFields: ['tier'],
};

function upcaster(readMin: number, readMax: number, writeVersion = () => readMax, onUpcast?: (e: UpcastEvent) => void, defs = [fullNameMigration(), tier]) {
  return createUpcaster({ registry: MigrationRegistry.create(defs), collection: 'customers', readMin, readMax, writeVersion, onUpcast });
}

describe('createUpcaster', () => {
  it('upcasts through every step up to readMax, keeps _id and _rev, and names the fields that changed', () => {
    const events: UpcastEvent[] = [];
    const u = upcaster(1, 3, undefined, (e) => events.push(e));
    const raw: Doc = { _id: 'c1', firstName: 'Ada', lastName: 'L', _rev: 4 };
    const result = u.upcast(raw);
    expect(result).toEqual({
      doc: { _id: 'c1', firstName: 'Ada', lastName: 'L', fullName: 'Ada L', tier: 'basic', _v: 3, _rev: 4 },
      from: 1,
      fields: ['fullName', 'tier'],
    });
    expect(raw).toEqual({ _id: 'c1', firstName: 'Ada', lastName: 'L', _rev: 4 });
    expect(events).toEqual([{ collection: 'customers', id: 'c1', from: 1, to: 3 }]);
  });

  it('hands a document already at readMax back as it is, without reporting an upcast', () => {
    const events: UpcastEvent[] = [];
    const raw = { _id: 1, fullName: 'x', _v: 2 };
    expect(upcaster(1, 2, undefined, (e) => events.push(e)).upcast(raw)).toEqual({ doc: raw, from: 2, fields: [] });
    expect(events).toEqual([]);
  });

  it.each([
    [{ _id: 'n', _v: 3 }, 'customers document n is at v3, newer than this build can read (deploy a build that reads it, or roll the migration back); this build reads v1..v2'],
    [{ _id: 'o', _v: 0 }, 'customers document o has _v 0, which is not a version; this build reads v1..v2'],
    [{ _id: 's', _v: '2' }, 'customers document s has _v "2", which is not a version; this build reads v1..v2'],
    [{ _id: 'u', firstName: 1 }, 'customers document u is at v1 and customers.full-name up() threw: firstName must be a string, got 1; this build reads v1..v2'],
  ])('refuses %j loudly instead of mangling it', (raw, message) => {
    let caught: unknown;
    try {
      upcaster(1, 2).upcast(raw);
    } catch (err) {
      caught = err;
    }
    expect(isUnreadableVersion(caught)).toBe(true);
    expect((caught as Error).message).toBe(message);
    expect(caught).toMatchObject({ id: raw._id, storedVersion: (raw as Doc)['_v'], readMin: 1, readMax: 2 });
  });

  it('refuses a document older than readMin', () => {
    expect(() => upcaster(2, 3).upcast({ _id: 1 })).toThrow(new UnreadableVersionError('customers', 1, undefined, 2, 3, 'is at v1, older than this build can read (run the backfill first)'));
  });

  it('upcasts lean results: arrays, single documents and null', () => {
    const u = upcaster(1, 2);
    expect(u.upcastLean([{ _id: 1, firstName: 'A', lastName: 'B' }, { _id: 2, fullName: 'C D', _v: 2 }])).toEqual([
      { _id: 1, firstName: 'A', lastName: 'B', fullName: 'A B', _v: 2 },
      { _id: 2, fullName: 'C D', _v: 2 },
    ]);
    expect(u.upcastLean(null)).toBeNull();
  });

  it('answers the write version only inside readMin..readMax, asking every time', () => {
    let version = 1;
    const u = upcaster(1, 2, () => version);
    expect(u.writeVersion()).toBe(1);
    version = 2;
    expect(u.writeVersion()).toBe(2);
    version = 3;
    expect(() => u.writeVersion()).toThrow(new UnwritableVersionError('customers', 3, 1, 2));
    version = 1.5;
    expect(() => u.writeVersion()).toThrow(UnwritableVersionError);
  });

  it('calls a write complete only when it sets every field the steps up to its version add', () => {
    const u = upcaster(1, 3);
    expect(u.writesCompleteShape(1, [])).toBe(true);
    expect(u.writesCompleteShape(2, ['email'])).toBe(false);
    expect(u.writesCompleteShape(2, ['fullName', 'email'])).toBe(true);
    expect(u.writesCompleteShape(3, ['fullName'])).toBe(false);
    expect(u.writesCompleteShape(3, ['fullName', 'tier'])).toBe(true);
    const noAddedFields = upcaster(1, 2, undefined, undefined, [fullNameMigration({ collection: 'customers', addedFields: [] })]);
    expect(noAddedFields.writesCompleteShape(2, ['fullName'])).toBe(false);
  });

  it('refuses a read range the registry cannot serve', () => {
    expect(() => upcaster(1, 4)).toThrow('versioned customers: reads v1..v4 but the registry has no step 3 -> 4');
    expect(() => upcaster(2, 1)).toThrow('readMin and readMax must be integers with 1 <= readMin <= readMax, got 2..1');
  });
});
