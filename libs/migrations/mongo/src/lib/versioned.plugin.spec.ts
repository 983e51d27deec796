import { fullNameMigration } from '@zdm/migrations-core/testing';
import { MigrationRegistry } from '@zdm/migrations-core';
import { createUpcaster } from './schema-version.upcaster';
import { stampReplacement, stampUpdate } from './versioned.plugin';

const upcaster = (writes: number) =>
  createUpcaster({ registry: MigrationRegistry.create([fullNameMigration()]), collection: 'customers', readMin: 1, readMax: 2, writeVersion: () => writes });

describe('stampUpdate', () => {
  it('stamps the write version on an update that sets the whole new shape, and increments _rev', () => {
    expect(stampUpdate(upcaster(2), { $set: { firstName: 'A', lastName: 'B', fullName: 'A B' } }, false)).toEqual({
      $set: { firstName: 'A', lastName: 'B', fullName: 'A B', _v: 2 },
      $inc: { _rev: 1 },
    });
  });

  it('moves plain fields into $set and keeps the other operators', () => {
    expect(stampUpdate(upcaster(1), { email: 'e', $unset: { x: '' }, $inc: { visits: 1 } }, false)).toEqual({
      $set: { email: 'e', _v: 1 },
      $unset: { x: '' },
      $inc: { visits: 1, _rev: 1 },
    });
  });

  it('leaves _v alone on a partial update by a build writing its newest version, except on insert', () => {
    expect(stampUpdate(upcaster(2), { $set: { email: 'e' } }, false)).toEqual({ $set: { email: 'e' }, $inc: { _rev: 1 } });
    expect(stampUpdate(upcaster(2), { $set: { email: 'e' } }, true)).toEqual({ $set: { email: 'e' }, $setOnInsert: { _v: 2 }, $inc: { _rev: 1 } });
  });

  it('refuses pipelines and updates that write _v or _rev, and versions the build cannot read', () => {
    expect(() => stampUpdate(upcaster(2), [{ $set: { a: 1 } }], false)).toThrow('cannot stamp pipeline updates');
    expect(() => stampUpdate(upcaster(2), { $max: { _v: 3 } }, false)).toThrow("versionedPlugin owns _v; remove it from the update's $max");
    expect(() => stampUpdate(upcaster(2), { _rev: 3 }, false)).toThrow("versionedPlugin owns _rev; remove it from the update's $set");
    expect(() => stampUpdate(upcaster(3), { $set: { a: 1 } }, false)).toThrow('refusing to write customers at v3');
  });
});

describe('stampReplacement', () => {
  it('stamps a whole replacement with the write version and a new revision', () => {
    const before = Date.now();
    const stamped = stampReplacement(upcaster(2), { fullName: 'A B', _v: 1, _rev: 3 });
    expect(stamped).toMatchObject({ fullName: 'A B', _v: 2 });
    expect(stamped['_rev']).toBeGreaterThanOrEqual(before);
  });
});
