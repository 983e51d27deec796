import type { NestExpressApplication } from '@nestjs/platform-express';
import { integrationServices, stopServiceProcess, type ServiceProcess } from '@zdm/dev-services';
import { Doc } from '@zdm/migrations-core';
import { followingUnleash, operatorFor } from '@zdm/migrations-nest/testing';
import { ORDERS_COLLECTION, ordersMigrations } from '@zdm/orders-domain';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import mongoose, { Connection, mongo } from 'mongoose';
import request from 'supertest';
import { authorizedHttp, startCustomersService, startOrdersApp, testBearer } from '../testing/orders-app.fixture';

jest.setTimeout(300_000);

const services = integrationServices(['mongo', 'unleash']);
const ROOT = path.resolve(__dirname, '..', '..', '..', '..');

describe('orders.customer-snapshot waits for customers.full-name, asked at the customers schema endpoint (FerretDB, Unleash, customers as a process)', () => {
  let customersService: ServiceProcess;
  let app: NestExpressApplication;
  let db: Connection;
  const customersDb = () => `${services.mongoDbName}-customers`;

  /** `zdm --config apps/<service>/zdm.config.ts --json <args>` against that service's database: exit code and result line. */
  const zdm = async (service: 'orders' | 'customers', ...args: string[]) => {
    const env = {
      PATH: process.env.PATH,
      MONGO_URL: services.mongo.url,
      MONGO_DB: service === 'orders' ? services.mongoDbName : customersDb(),
      UNLEASH_URL: services.unleash.url,
      UNLEASH_ADMIN_TOKEN: services.unleash.adminToken,
      CUSTOMERS_URL: customersService.url,
    };
    const run = promisify(execFile)(
      path.join(ROOT, 'node_modules', '.bin', 'node'),
      [path.join(ROOT, 'tools', 'scripts', 'run-ts.mjs'), 'apps/zdm/src/main.ts', '--config', `apps/${service}/zdm.config.ts`, '--json', ...args],
      { cwd: ROOT, env },
    );
    const { stdout, code } = await run.then((r) => ({ stdout: r.stdout, code: 0 })).catch((err: { stdout: string; code: number }) => ({ stdout: err.stdout, code: err.code }));
    return { code, result: JSON.parse(stdout.trim().split('\n').pop() as string) };
  };

  beforeAll(async () => {
    db = await mongoose.createConnection(services.mongo.url, { dbName: services.mongoDbName }).asPromise();
    await operatorFor(db.db as mongo.Db, services.unleash, ordersMigrations);
    customersService = await startCustomersService(
      followingUnleash(services.unleash, { MONGO_URL: services.mongo.url, MONGO_DB: customersDb(), INSTANCE_ID: 'customers-for-orders', BUILD: 'green' }) as Record<string, string>,
    );
    app = await startOrdersApp(
      followingUnleash(services.unleash, { MONGO_URL: services.mongo.url, MONGO_DB: services.mongoDbName, CUSTOMERS_URL: customersService.url, INSTANCE_ID: 'orders-snapshot-1', BUILD: 'green' }),
    );
  });
  afterAll(async () => {
    // Suites share one Unleash: walk both back so the others find their flags pending.
    await zdm('customers', 'rollback', 'customers.full-name').catch(() => undefined);
    await operatorFor(db.db as mongo.Db, services.unleash, ordersMigrations).catch(() => undefined);
    await app?.close();
    await db?.close();
    await stopServiceProcess(customersService);
  });

  it('refuses to leave pending while customers reports customers.full-name before switch-reads, naming the gate', async () => {
    expect((await zdm('orders', 'run', 'orders.money')).code).toBe(0);
    const refused = await zdm('orders', 'advance', 'orders.customer-snapshot');
    expect(refused.code).toBe(3);
    expect(JSON.stringify(refused.result)).toContain('requires:customers/customers.full-name@switch-reads');
    expect(JSON.stringify(refused.result)).toContain('customers reports customers.full-name in pending; needs switch-reads or later');
  });

  it('walks to complete once customers is at switch-reads; new orders then keep only { fullName }, and old clients still get the parts', async () => {
    const placedBefore = await (await authorizedHttp(app)).post('/orders').send({ customerId: await customer('Mary Ann', 'Evans'), currency: 'EUR', lines: [{ sku: 'A', quantity: 1, unitPrice: 1 }] }).expect(201);
    expect((await zdm('customers', 'run', 'customers.full-name', '--to', 'switch-reads')).code).toBe(0);
    const walked = await zdm('orders', 'run', 'orders.customer-snapshot');
    expect(walked).toMatchObject({ code: 0, result: { ok: true } });
    const stored = await db.collection<Doc>(ORDERS_COLLECTION).findOne({ _id: new mongoose.Types.ObjectId(placedBefore.body.id as string) });
    expect(stored).toMatchObject({ _v: 3, customerSnapshot: { fullName: 'Mary Ann Evans' } });
    expect(stored).not.toHaveProperty('customer');

    const placed = await (await authorizedHttp(app)).post('/orders').send({ customerId: await customer('Ludwig', 'van Beethoven'), currency: 'EUR', lines: [{ sku: 'A', quantity: 1, unitPrice: 1 }] }).expect(201);
    expect(placed.body.customer).toEqual({ firstName: 'Ludwig van', lastName: 'Beethoven', fullName: 'Ludwig van Beethoven' });
    expect(await db.collection<Doc>(ORDERS_COLLECTION).findOne({ _id: new mongoose.Types.ObjectId(placed.body.id as string) })).toMatchObject({ _v: 3, customerSnapshot: { fullName: 'Ludwig van Beethoven' } });
    const read = await request(app.getHttpServer()).get(`/orders/${placedBefore.body.id}`).expect(200);
    expect(read.body.customer).toEqual({ firstName: 'Mary Ann', lastName: 'Evans', fullName: 'Mary Ann Evans' });
  });

  async function customer(firstName: string, lastName: string): Promise<string> {
    const res = await fetch(`${customersService.url}/customers`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: await testBearer() }, body: JSON.stringify({ firstName, lastName }) });
    return ((await res.json()) as { id: string }).id;
  }
});
