import { MigrationRegistry } from '@zdm/migrations-core';
import { ordersRegistry } from '@zdm/orders-domain';
import { integrationServices } from '@zdm/dev-services';
import mongoose, { Connection } from 'mongoose';
import { createOrdersRepository, OrdersRepository } from './orders.repository';

jest.setTimeout(30_000);

const services = integrationServices(['mongo']);

describe('OrdersRepository on FerretDB', () => {
  let connection: Connection;
  let repository: OrdersRepository;
  const order = (customerId: string, total: number) => ({ customerId, customer: { firstName: 'A', lastName: 'B' }, currency: 'EUR', lines: [{ sku: 'X', quantity: 1, unitPrice: total }], total, status: 'placed' });

  beforeAll(async () => {
    connection = await mongoose.createConnection(services.mongo.url, { dbName: services.mongoDbName }).asPromise();
    repository = createOrdersRepository(connection, { registry: MigrationRegistry.create([]), readMin: 1, readMax: 1, writeVersion: () => 1, atomicUpdates: true });
  });
  afterAll(() => connection?.close());

  it('stores an order at v1 with its lines and snapshot, and reads it back without bookkeeping fields', async () => {
    const created = await repository.insert(order('a'.repeat(24), 19.99));
    expect(created).toMatchObject({ storedVersion: 1, rev: 1, doc: { total: 19.99, lines: [{ sku: 'X', quantity: 1, unitPrice: 19.99 }], customer: { firstName: 'A' } } });
    expect(Object.keys((await repository.findById(created.id))?.doc ?? {})).not.toEqual(expect.arrayContaining(['_id', '_v', '_rev']));
  });

  it("pages through one customer's orders only, in id order, with a cursor", async () => {
    const customer = 'b'.repeat(24);
    for (let i = 0; i < 5; i++) await repository.insert(order(customer, i));
    await repository.insert(order('c'.repeat(24), 9));
    const first = await repository.page(3, undefined, { customerId: customer });
    const second = await repository.page(3, first.next ?? undefined, { customerId: customer });
    expect(first.items.map((o) => o.doc['total'])).toEqual([0, 1, 2]);
    expect(second.items.map((o) => o.doc['total'])).toEqual([3, 4]);
    expect(second.next).toBeNull();
  });

  it('says which order kept changing when an update loses every compare-and-set', async () => {
    const { id } = await repository.insert(order('d'.repeat(24), 1));
    const busy = repository.update(id, async () => {
      await connection.collection('orders').updateOne({ _id: new mongoose.Types.ObjectId(id) }, { $inc: { _rev: 1 } });
      return { set: { status: 'paid' } };
    });
    await expect(busy).rejects.toThrow(`order ${id} kept changing while it was being updated (8 attempts); try again`);
    expect((await repository.findById(id))?.doc['status']).toBe('placed');
  });

  it('keeps the stored version on a partial update by a build that writes a newer one, and stamps the newer one only when asked', async () => {
    // A status change during orders.money's dual-write: green writes v2, but a status alone is not the v2 shape.
    // Its own connection: a model (and the version its plugin stamps) belongs to one build.
    const greenConnection = await mongoose.createConnection(services.mongo.url, { dbName: services.mongoDbName }).asPromise();
    const green = createOrdersRepository(greenConnection, { registry: ordersRegistry(), readMin: 1, readMax: 2, writeVersion: () => 2, atomicUpdates: true });
    // One stamped v1 by blue, one from before versioning (no _v, no _rev: v1 too).
    const { id: stamped } = await repository.insert(order('f'.repeat(24), 19.99));
    const { insertedId } = await connection.collection('orders').insertOne(order('f'.repeat(24), 5));
    const unversioned = insertedId.toHexString();
    for (const id of [stamped, unversioned]) {
      const paid = await green.update(id, () => ({ set: { status: 'paid' } }));
      expect(paid).toMatchObject({ storedVersion: 1, doc: { status: 'paid' } });
      const raw = await connection.collection('orders').findOne({ _id: new mongoose.Types.ObjectId(id) });
      expect(raw).toMatchObject({ _v: 1, status: 'paid' });
      expect(raw).not.toHaveProperty('totalMoney');
    }
    const whole = await green.update(stamped, () => ({ set: { totalMoney: { minor: 1999, currency: 'EUR' }, items: [{ sku: 'X', quantity: 1, unitPrice: { minor: 1999, currency: 'EUR' } }] } }), { version: 2 });
    expect(whole).toMatchObject({ storedVersion: 2, rev: 3 });
    await greenConnection.close();
  });

  it('refuses fields outside the schema instead of dropping them', async () => {
    await expect(repository.insert({ ...order('e'.repeat(24), 1), discount: 5 })).rejects.toThrow(/discount/);
  });
});
