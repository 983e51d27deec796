import { fullNameMigration } from '@zdm/migrations-core/testing';
import { BatchEvent, Doc, GateRefusedError, MigrationDefinition, shadowRead, targetOf } from '@zdm/migrations-core';
import { mongo } from 'mongoose';
import { seedCustomers, snapshot } from '../test/customers.fixture';
import { useTestMongo } from '../test/ferretdb.fixture';
import { mongoTargetKind } from './mongo.target';
import { advanceTo, ops, testMigrator, testThrottle } from '../test/fleet.fixture';

jest.setTimeout(600_000);

const server = useTestMongo('mongo-backend');
const { EJSON } = mongo.BSON;
/** Exact comparison: same fields, same values and types, same key order. */
const exactly = (docs: mongo.Document[]) => docs.map((d) => EJSON.stringify(d, { relaxed: false }));

function migration(collection: string, overrides: Partial<MigrationDefinition> = {}): MigrationDefinition {
  const name = collection.replace(/_/g, '-');
  // A service per test migration, so the instances of one do not hold up the gates of another.
  return fullNameMigration({ collection, id: `customers.full-name.${name}`, service: `customers-${name}`, ...overrides });
}

/** Seeds `count` v1 customers for `def`, takes the snapshot, and brings the migration to backfill. */
async function seededAtBackfill(def: MigrationDefinition, count: number) {
  const customers = server.db.collection(targetOf(def, mongoTargetKind).collection);
  await seedCustomers(customers, count);
  const before = await snapshot(customers);
  const { migrator, backend } = testMigrator(server.db, [def]);
  await advanceTo(migrator, def, 'backfill');
  return { customers, before, migrator, backend };
}

describe('createMongoBackend with the Migrator', () => {
  /** FerretDB on SQLite scans the table for each single-document update; ZDM_FLOW_DOCS shrinks the run on a busy machine. */
  const N = Number(process.env['ZDM_FLOW_DOCS'] ?? 2000);

  describe(`before contract, over ${N} customers`, () => {
    const def = migration('flow_a');
    let before: mongo.Document[];
    const events: BatchEvent[] = [];

    it('backfills every document to v2, reporting progress after every batch', async () => {
      const { customers, migrator, backend, ...seeded } = await seededAtBackfill(def, N);
      before = seeded.before;
      expect(await backend.counts(def)).toEqual({ belowTarget: N, withOldFields: N, quarantined: 0 });

      const result = await migrator.run(def.id, 'backfill', { onBatch: (e) => events.push(e) });

      expect(result.status).toBe('done');
      expect(result.checkpoint).toMatchObject({ processed: N, written: N, conflicts: 0, quarantined: 0, done: true });
      expect(events.length).toBeGreaterThanOrEqual(N / testThrottle.maxBatchSize);
      expect(events.map((e) => e.progress.done)).toEqual([...events.map((e) => e.progress.done)].sort((a, b) => a - b));
      expect(events[events.length - 1].progress).toMatchObject({ done: N, remaining: 0 });
      expect(await backend.counts(def)).toEqual({ belowTarget: 0, withOldFields: N, quarantined: 0 });
      for (const i of [N - 10, N - 6]) {
        expect(await customers.findOne({ _id: before[i]['_id'] })).toEqual({ ...before[i], fullName: `First${i} Last${i}`, _v: 2 });
      }
    });

    it('verifies with zero mismatches, shadow reads included, and a reversible round trip, after which the gate lets verify advance', async () => {
      const { migrator } = testMigrator(server.db, [def]);
      await advanceTo(migrator, def, 'verify');
      const name = shadowRead(
        (c: Doc) => `${c['firstName']} ${c['lastName']}`,
        (c: Doc) => c['fullName'] as string,
      );
      for (const customer of await server.db.collection('flow_a').find({}).limit(200).toArray()) await name(customer);
      const { report, roundTrip, result } = await migrator.verify(def.id, { shadowMismatches: name.reset().mismatches });
      expect(result.status).toBe('done');
      expect(report).toMatchObject({ checked: N, mismatches: 0, shadowMismatches: 0 });
      expect(roundTrip.reversible).toBe(true);
      const gates = (await migrator.status(def.id)).gates;
      expect(gates.filter((g) => !g.ok)).toEqual([]);
    });

    it('rolls back to documents exactly equal to the snapshot taken before the migration began, then drops the undo records', async () => {
      const { migrator, backend } = testMigrator(server.db, [def]);
      const undoRecords = () => server.db.collection('zdm_undo').countDocuments({ migrationId: def.id });
      expect(await undoRecords()).toBeGreaterThan(0);
      const result = await migrator.rollback(def.id, ops);
      expect(result?.status).toBe('done');
      expect(result?.checkpoint.written).toBe(N);
      const after = await snapshot(server.db.collection('flow_a'));
      expect(exactly(after)).toEqual(exactly(before));
      expect((await migrator.phaseMachine.state(def.id)).phase).toBe('rolled-back');
      expect(await undoRecords()).toBe(0);
      expect(await backend.clearUndo(def.id)).toBe(0);
    });
  });

  describe('through contract, over 500 customers', () => {
    const def = migration('flow_b');
    const N = 500;
    let before: mongo.Document[];

    it('removes the old fields at contract, after which the gate sees none left', async () => {
      const { customers, migrator, backend, ...seeded } = await seededAtBackfill(def, N);
      before = seeded.before;
      expect((await migrator.run(def.id, 'backfill')).status).toBe('done');
      await advanceTo(migrator, def, 'verify');
      await migrator.verify(def.id);
      await advanceTo(migrator, def, 'contract');

      const result = await migrator.run(def.id, 'contract');

      expect(result.checkpoint).toMatchObject({ written: N, quarantined: 0 });
      expect(await backend.counts(def)).toEqual({ belowTarget: 0, withOldFields: 0, quarantined: 0 });
      const one = await customers.findOne({ _id: before[7]['_id'] });
      const { firstName, lastName, ...rest } = before[7];
      expect(one).toEqual({ ...rest, fullName: `${firstName} ${lastName}`, _v: 2 });
      expect((await migrator.status(def.id)).gates.filter((g) => !g.ok)).toEqual([]);
    });

    it('rolls back after contract by running down() over the data, restoring every document (the undo log knows where _v was absent), then drops the undo records', async () => {
      const { migrator, backend } = testMigrator(server.db, [def]);
      const undoRecords = () => server.db.collection('zdm_undo').countDocuments({ migrationId: def.id });
      expect(await undoRecords()).toBeGreaterThan(0);
      const result = await migrator.rollback(def.id, ops);
      expect(result?.status).toBe('done');
      expect(result?.checkpoint.written).toBe(N);
      expect(await backend.counts(def)).toMatchObject({ belowTarget: N, withOldFields: N });
      // down() puts the names back at the end of the document, so compare values, not key order.
      expect(await snapshot(server.db.collection('flow_b'))).toEqual(before);
      expect((await migrator.phaseMachine.state(def.id)).phase).toBe('rolled-back');
      expect(await undoRecords()).toBe(0);
    });

    it('refuses to roll an irreversible migration back past contract, and says why', async () => {
      const irreversible = migration('flow_b', { id: 'customers.full-name.irreversible', down: undefined });
      const { migrator } = testMigrator(server.db, [irreversible]);
      await migrator.store.state.save(
        { id: irreversible.id, phase: 'contract', revision: 0, checksum: '-', command: 'run', updatedAt: new Date() },
        0,
      );
      await expect(migrator.rollback(irreversible.id, ops)).rejects.toThrow(
        `${irreversible.id} is irreversible: it has no down(), and in contract the old fields (firstName, lastName) are gone, so old readers cannot come back`,
      );
      expect(await snapshot(server.db.collection('flow_b'))).toEqual(before);
    });
  });

  describe('with 1% malformed documents', () => {
    const def = migration('flow_q');
    const N = 500;
    const broken = (i: number) => i % 100 === 37;
    const B = N / 100;

    it('quarantines each malformed document with its reason, migrates everything else, and the gate refuses to advance', async () => {
      const { customers, before, migrator, backend } = await seededAtBackfill(def, N);
      const bad = before.filter((_, i) => broken(i));
      for (const [k, doc] of bad.entries()) {
        const damage = [{ $unset: { lastName: '' } }, { $set: { firstName: 42 } }, { $set: { _v: 'one' } }][k % 3];
        await customers.updateOne({ _id: doc['_id'] }, damage);
      }

      const result = await migrator.run(def.id, 'backfill');

      expect(result.status).toBe('done');
      expect(result.checkpoint.written).toBe(N - bad.length);
      expect(await backend.counts(def)).toEqual({ belowTarget: bad.length, withOldFields: N, quarantined: bad.length });
      const entries = await migrator.quarantined(def.id);
      expect(entries.map((e) => e.docId).sort()).toEqual(bad.map((d) => (d['_id'] as mongo.ObjectId).toHexString()).sort());
      expect(entries.map((e) => e.reason)).toEqual(
        expect.arrayContaining([
          'up threw: lastName is missing',
          'up threw: firstName must be a string, got 42',
          '_v is "one", not a positive integer; fix the document\'s version, then retry',
        ]),
      );
      const refused = migrator.advance(def.id, ops);
      await expect(refused).rejects.toBeInstanceOf(GateRefusedError);
      await expect(migrator.advance(def.id, ops)).rejects.toThrow(/no-document-below-target: 5 document\(s\) below v2[\s\S]*quarantine-empty: 5 quarantined/);
    });

    it('clears the quarantine once the documents are fixed and retried, and then the gate lets backfill advance', async () => {
      const customers = server.db.collection('flow_q');
      const { migrator, backend } = testMigrator(server.db, [def]);
      const still = await migrator.retryQuarantined(def.id, ops);
      expect(still.fixed).toEqual([]);
      expect(still.still).toHaveLength(B);

      for (const entry of await migrator.quarantined(def.id)) {
        await customers.updateOne({ _id: new mongo.ObjectId(entry.docId) }, { $set: { firstName: 'Fixed', lastName: entry.docId }, $unset: { _v: '' } });
      }
      const retried = await migrator.retryQuarantined(def.id, ops);

      expect(retried.fixed).toHaveLength(B);
      expect(retried.still).toEqual([]);
      expect(await backend.counts(def)).toEqual({ belowTarget: 0, withOldFields: N, quarantined: 0 });
      const fixed = await customers.findOne({ firstName: 'Fixed' });
      expect(fixed).toMatchObject({ fullName: `Fixed ${(fixed?.['_id'] as mongo.ObjectId).toHexString()}`, _v: 2 });
      await advanceTo(migrator, def, 'verify');
    });
  });

  it('walks documents with number, string and ObjectId _ids, in MongoDB order, and migrates them all', async () => {
    const def = migration('flow_ids');
    const customers = server.db.collection<Doc>('flow_ids');
    const ids: unknown[] = [3, 1.5, -7, 'b', 'a', '', new mongo.ObjectId(), new mongo.ObjectId(), 'z"quoted"'];
    await customers.insertMany(ids.map((_id, i) => ({ _id, firstName: `F${i}`, lastName: `L${i}` })) as Doc[]);
    const { migrator, backend } = testMigrator(server.db, [def], {});
    await advanceTo(migrator, def, 'backfill');
    const result = await migrator.run(def.id, 'backfill');
    expect(result.checkpoint).toMatchObject({ processed: ids.length, written: ids.length });
    expect(await backend.counts(def)).toMatchObject({ belowTarget: 0 });
    const reread = await backend.target(def, 'verify').reread(['3', '"a"', '"z\\"quoted\\""', '"missing"']);
    expect(reread.map((i) => i.doc['firstName']).sort()).toEqual(['F0', 'F4', 'F8']);
  });
});

describe('rollback before contract of a migration that changes and removes fields', () => {
  it('restores every field with its value and type (FerretDB stores no arrays nested in arrays, so the undo log keeps none)', async () => {
    const def = fullNameMigration({
      collection: 'flow_reshape',
      id: 'customers.reshape',
      service: 'customers-reshape',
      // Changes email, removes lastName (and, on every tenth, note and tags): the undo log must keep their old values.
      up: (doc: Doc) => {
        const { lastName, note: _note, tags: _tags, ...rest } = doc;
        return { ...rest, email: String(doc['email']).toUpperCase(), fullName: `${doc['firstName']} ${lastName}` };
      },
      verify: undefined,
      removedFields: ['lastName'],
    });
    const { customers, before, migrator } = await seededAtBackfill(def, 300);
    const result = await migrator.run(def.id, 'backfill');
    expect(result.checkpoint).toMatchObject({ processed: 300, written: 300, quarantined: 0 });
    expect(await customers.findOne({ _id: before[10]['_id'] })).toEqual({ _id: before[10]['_id'], firstName: 'First10', email: 'C10@EXAMPLE.COM', address: before[10]['address'], since: before[10]['since'], fullName: 'First10 Last10', _v: 2 });

    const rolledBack = await migrator.rollback(def.id, ops);
    expect(rolledBack?.status).toBe('done');
    // Same fields, values and types; a field `up` removed comes back at the end of the document.
    const sorted = (docs: mongo.Document[]) => exactly(docs.map((d) => Object.fromEntries(Object.entries(d).sort(([a], [b]) => a.localeCompare(b)))));
    expect(sorted(await snapshot(customers))).toEqual(sorted(before));
  });
});
