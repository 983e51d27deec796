import { MigrationRegistry } from '@zdm/migrations-core';
import { integrationServices } from '@zdm/dev-services';
import mongoose, { Connection } from 'mongoose';
import { createCustomersRepository } from './customer.model';
import { DocumentWriteConflictError, WriteDeadlineExceededError } from '@zdm/migrations-mongo';
import { CustomersRepository } from './customers.repository';

jest.setTimeout(30_000);

const services = integrationServices(['mongo']);

describe('CustomersRepository on FerretDB', () => {
  let connection: Connection;
  let repository: CustomersRepository;
  /** Compare-and-set on `_rev` without claims: what runs on MongoDB, checked here one writer at a time. */
  let casOnly: CustomersRepository;
  let writeVersion = 1;

  beforeAll(async () => {
    connection = await mongoose.createConnection(services.mongo.url, { dbName: services.mongoDbName }).asPromise();
    repository = createCustomersRepository(connection, {
      registry: MigrationRegistry.create([]),
      readMin: 1,
      readMax: 1,
      writeVersion: () => writeVersion,
    });
    casOnly = createCustomersRepository(connection, { registry: MigrationRegistry.create([]), readMin: 1, readMax: 1, writeVersion: () => 1, atomicUpdates: true });
  });
  afterAll(() => connection?.close());

  it('stamps inserts and updates with the write version and bumps the revision on every write', async () => {
    const created = await repository.insert({ firstName: 'Ada', lastName: 'Lovelace' });
    expect(created).toMatchObject({ storedVersion: 1, rev: 1, doc: { firstName: 'Ada', lastName: 'Lovelace' } });
    const updated = await repository.update(created.id, () => ({ set: { lastName: 'King' } }));
    expect(updated).toMatchObject({ storedVersion: 1, rev: 2, doc: { lastName: 'King' } });
  });

  it('re-reads and recomputes an update when another writer changed the document in between (compare-and-set on _rev)', async () => {
    const { id } = await casOnly.insert({ firstName: 'A', lastName: 'B' });
    let calls = 0;
    const result = await casOnly.update(id, async (current) => {
      calls++;
      // The first time, someone else writes between this read and the compare-and-set.
      if (calls === 1) await connection.collection('customers').updateOne({ _id: new mongoose.Types.ObjectId(id) }, { $set: { firstName: 'Other' }, $inc: { _rev: 1 } });
      return { set: { lastName: `${String(current.doc['firstName'])}-seen` } };
    });
    expect(calls).toBe(2);
    expect(result?.doc).toMatchObject({ firstName: 'Other', lastName: 'Other-seen' });
  });

  it('keeps both changes when two instances update the same customer at once (20 rounds, separate connections)', async () => {
    const other = await mongoose.createConnection(services.mongo.url, { dbName: services.mongoDbName }).asPromise();
    try {
      const second = createCustomersRepository(other, { registry: MigrationRegistry.create([]), readMin: 1, readMax: 1, writeVersion: () => 1 });
      for (let round = 0; round < 20; round++) {
        const { id } = await repository.insert({ firstName: 'A', lastName: 'B' });
        await Promise.all([
          repository.update(id, (c) => ({ set: { firstName: `${String(c.doc['firstName'])}+1` } })),
          second.update(id, (c) => ({ set: { lastName: `${String(c.doc['lastName'])}+2` } })),
        ]);
        expect((await repository.findById(id))?.doc).toMatchObject({ firstName: 'A+1', lastName: 'B+2' });
      }
      // Both writers took claims (FerretDB), and none is left behind.
      expect(await connection.collection('zdm_claims').countDocuments()).toBe(0);
    } finally {
      await other.close();
    }
  });

  it('gives up with a conflict error when the document changes on every attempt (compare-and-set on _rev)', async () => {
    const { id } = await casOnly.insert({ firstName: 'A', lastName: 'B' });
    const busy = casOnly.update(id, async () => {
      await connection.collection('customers').updateOne({ _id: new mongoose.Types.ObjectId(id) }, { $inc: { _rev: 1 } });
      return { set: { lastName: 'never' } };
    });
    await expect(busy).rejects.toBeInstanceOf(DocumentWriteConflictError);
    expect((await repository.findById(id))?.doc['lastName']).toBe('B');
  });

  it('with claims, waits for another writer that was mid-update when it began, then applies its change on top', async () => {
    // Claims forced, so that this runs the same on MongoDB (which needs none) as on FerretDB.
    const forced = createCustomersRepository(connection, { registry: MigrationRegistry.create([]), readMin: 1, readMax: 1, writeVersion: () => 1, atomicUpdates: false });
    const { id } = await forced.insert({ firstName: 'Held', lastName: 'B' });
    let open = () => undefined as void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const holder = forced.update(id, async () => {
      await gate;
      return { set: { lastName: 'C' } };
    });
    await new Promise((r) => setTimeout(r, 50));
    const waiting = forced.update(id, (c) => ({ set: { lastName: `${String(c.doc['lastName'])}+after` } }));
    await new Promise((r) => setTimeout(r, 50));
    open();
    await holder;
    expect((await waiting)?.doc['lastName']).toBe('C+after');
    expect(await connection.collection('zdm_claims').countDocuments()).toBe(0);
  });

  it('sends no part of an update or a delete whose deadline has passed, and says so', async () => {
    const { id } = await repository.insert({ firstName: 'Late', lastName: 'Comer' });
    let decided = 0;
    const late = repository.update(id, () => (decided++, { set: { lastName: 'Never' } }), { deadline: Date.now() - 1 });
    await expect(late).rejects.toBeInstanceOf(WriteDeadlineExceededError);
    await expect(repository.remove(id, { deadline: Date.now() - 1 })).rejects.toBeInstanceOf(WriteDeadlineExceededError);
    expect(decided).toBe(0);
    expect((await repository.findById(id))?.doc['lastName']).toBe('Comer');
    expect(await repository.update(id, () => ({ set: { lastName: 'InTime' } }), { deadline: Date.now() + 5_000 })).toMatchObject({ doc: { lastName: 'InTime' } });
    expect(await repository.remove(id, { deadline: Date.now() + 5_000 })).toBe(true);
  });

  it('with claims, decides nothing once the deadline passed while another writer held the customer', async () => {
    const claiming = createCustomersRepository(connection, { registry: MigrationRegistry.create([]), readMin: 1, readMax: 1, writeVersion: () => 1, atomicUpdates: false });
    const { id } = await claiming.insert({ firstName: 'Slow', lastName: 'Holder' });
    let open = () => undefined as void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const holder = claiming.update(id, async () => {
      await gate;
      return { set: { lastName: 'First' } };
    });
    await new Promise((r) => setTimeout(r, 50));
    let decided = 0;
    const waiting = claiming.update(id, () => (decided++, { set: { lastName: 'Second' } }), { deadline: Date.now() + 150 });
    await expect(waiting).rejects.toBeInstanceOf(WriteDeadlineExceededError);
    open();
    await holder;
    expect(decided).toBe(0);
    expect((await claiming.findById(id))?.doc['lastName']).toBe('First');
  });

  it('stamps the version a write was shaped for, even if the current write version changes meanwhile', async () => {
    const { id } = await repository.insert({ firstName: 'Pin', lastName: 'Ned' }, 1);
    writeVersion = 2; // a flag flip this build cannot even read: only the pinned version is used
    try {
      const updated = await repository.update(id, () => ({ set: { lastName: 'Down' } }), { version: 1 });
      expect(updated?.storedVersion).toBe(1);
      await expect(repository.insert({ firstName: 'No', lastName: 'Pin' })).rejects.toThrow(/refusing to write customers at v2/);
    } finally {
      writeVersion = 1;
    }
  });

  it('refuses fields outside the schema instead of dropping them', async () => {
    await expect(repository.insert({ firstName: 'A', lastName: 'B', nickname: 'x' })).rejects.toThrow(/nickname/);
  });

  it('reads nothing for ids that are not ObjectIds, and deletes only what exists', async () => {
    expect(await repository.findById('nope')).toBeNull();
    const { id } = await repository.insert({ firstName: 'Gone', lastName: 'Soon' });
    expect(await repository.remove(id)).toBe(true);
    expect(await repository.remove(id)).toBe(false);
  });
});
