import { integrationServices, materializeRelease, startRelease, stopRelease, type MaterializedRelease, type ReleaseProcess } from '@zdm/dev-services';
import mongoose, { Connection } from 'mongoose';
import { startCustomersService, testBearer } from '../testing/orders-app.fixture';

jest.setTimeout(240_000);

const services = integrationServices(['mongo']);

describe('orders v1 (blue), materialized from git', () => {
  let release: MaterializedRelease & { remove(): void };
  let customers: ReleaseProcess;
  let blue: ReleaseProcess;
  let db: Connection;

  beforeAll(async () => {
    release = await materializeRelease('orders', 'v1');
    customers = await startCustomersService({ MONGO_URL: services.mongo.url, MONGO_DB: `${services.mongoDbName}-customers` });
    blue = await startRelease(release, { MONGO_URL: services.mongo.url, MONGO_DB: services.mongoDbName, CUSTOMERS_URL: customers.url, INSTANCE_ID: 'orders-blue-1' });
    db = await mongoose.createConnection(services.mongo.url, { dbName: services.mongoDbName }).asPromise();
  });
  afterAll(async () => {
    await stopRelease(blue);
    await stopRelease(customers);
    await db?.close();
    release?.remove();
  });

  it('is the recorded commit, as orders-v1, and needs MONGO_URL and CUSTOMERS_URL', () => {
    expect(release).toMatchObject({ service: 'orders', release: 'v1', build: 'orders-v1', reads: [1, 1], requiredEnv: ['MONGO_URL', 'CUSTOMERS_URL'] });
  });

  it('places an order in float money with the customer snapshot, stored at v1, and beats as build orders-v1', async () => {
    const created = await fetch(`${customers.url}/customers`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: await testBearer() }, body: JSON.stringify({ firstName: 'Ada', lastName: 'Lovelace' }) });
    const customerId = ((await created.json()) as { id: string }).id;
    const res = await fetch(`${blue.url}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ customerId, currency: 'EUR', lines: [{ sku: 'BOOK-1', quantity: 2, unitPrice: 19.99 }] }),
    });
    expect(res.status).toBe(201);
    const order = (await res.json()) as { id: string };
    expect(order).toMatchObject({ customer: { firstName: 'Ada', lastName: 'Lovelace' }, total: 39.98, lines: [{ unitPrice: 19.99 }] });
    expect(order).not.toHaveProperty('totalMoney');
    expect(await db.collection('orders').findOne({ _id: new mongoose.Types.ObjectId(order.id) })).toMatchObject({ _v: 1, total: 39.98 });
    const beat = await db.collection('zdm_heartbeats').findOne({ instanceId: 'orders-blue-1' });
    expect(beat).toMatchObject({ service: 'orders', build: 'orders-v1' });
  });
});
