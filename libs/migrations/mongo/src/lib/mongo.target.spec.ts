import { MigrationDefinitionError, MigrationRegistry, targetKindProblems } from '@zdm/migrations-core';
import { fullNameMigration } from '@zdm/migrations-core/testing';
import { mongo } from 'mongoose';
import { createMongoBackend } from './mongo.backend';
import { mongoTargetKind } from './mongo.target';

describe('mongo targets', () => {
  it('need a collection', () => {
    expect(mongoTargetKind.problems({ kind: 'mongo', collection: 'customers' })).toEqual([]);
    expect(mongoTargetKind.problems({ kind: 'mongo', collection: '' })).toEqual(['target.collection is required']);
    expect(mongoTargetKind.problems({ kind: 'mongo', name: 'customers' })).toEqual(['target.collection is required']);
  });

  it('are checked when the backend is created, so a bad one fails at startup naming the migration', () => {
    // A Db object does not connect until it is used.
    const db = new mongo.MongoClient('mongodb://127.0.0.1:1').db('unused');
    const bad = fullNameMigration({ id: 'customers.no-collection', target: { kind: 'mongo', name: 'customers' } });
    const registry = new MigrationRegistry([bad, fullNameMigration({ id: 'sessions.full-name', target: { kind: 'redis', keyPattern: 's:*', versioning: 'value' } })]);
    expect(targetKindProblems(registry.all(), mongoTargetKind).map((p) => `${p.migrationId}: ${p.message}`)).toEqual(['customers.no-collection: target.collection is required']);
    expect(() => createMongoBackend({ db, registry })).toThrow(MigrationDefinitionError);
    expect(() => createMongoBackend({ db, registry })).toThrow('customers.no-collection: target.collection is required');
  });
});
