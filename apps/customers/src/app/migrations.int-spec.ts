import type { NestExpressApplication } from '@nestjs/platform-express';
import { integrationServices } from '@zdm/dev-services';
import type { ControlStore, InstanceHeartbeat } from '@zdm/migrations-core';
import { createMongoControlStore } from '@zdm/migrations-mongo';
import mongoose, { Connection } from 'mongoose';
import request from 'supertest';
import { authorizedHttp, startCustomersApp } from '../testing/customers-app.fixture';
import { waitFor } from '@zdm/migrations-core/testing';

jest.setTimeout(60_000);

const services = integrationServices(['mongo']);

describe('the migration bookkeeping of this build (FerretDB)', () => {
  let db: Connection;
  let store: ControlStore;
  // Without Unleash (whatever the one npm test shares says): the flags keep their safe defaults.
  const env = () => ({ UNLEASH_URL: undefined, UNLEASH_CLIENT_TOKEN: undefined, MONGO_URL: services.mongo.url, MONGO_DB: services.mongoDbName, HEARTBEAT_INTERVAL_MS: '200', BUILD: 'test-build' });
  const beatOf = async (instanceId: string) => (await store.heartbeats.live()).find((hb) => hb.instanceId === instanceId);

  beforeAll(async () => {
    db = await mongoose.createConnection(services.mongo.url, { dbName: services.mongoDbName }).asPromise();
    store = createMongoControlStore(db.db as NonNullable<Connection['db']>);
  });
  afterAll(() => db?.close());

  it('beats every interval with its service, build, read range and write version, and removes the heartbeat on graceful shutdown', async () => {
    const app = await startCustomersApp({ ...env(), INSTANCE_ID: 'customers-hb-1' });
    let closed = false;
    try {
      const first = await waitFor('a heartbeat', () => beatOf('customers-hb-1'));
      expect(first).toMatchObject({
        service: 'customers',
        instanceId: 'customers-hb-1',
        build: 'test-build',
        schemas: { customers: { readMin: 1, readMax: 3, writes: 1 } },
        // Without Unleash: the oldest, safest values, for good.
        flags: {
          'customers.full-name.write-new': false,
          'customers.full-name.read-new': false,
          'customers.full-name.write-old': true,
          'customers.status.write-new': false,
        },
      });
      const later = await waitFor('a newer heartbeat', async () => {
        const hb = await beatOf('customers-hb-1');
        return hb && hb.at > first.at ? hb : undefined;
      });
      expect(later.at.getTime() - first.at.getTime()).toBeLessThan(2_000);
      await app.close();
      closed = true;
      expect(await beatOf('customers-hb-1')).toBeUndefined();
    } finally {
      if (!closed) await app.close();
    }
  });

  describe('next to a build that writes v4 (a version this build has never heard of)', () => {
    let app: NestExpressApplication;
    let http: ReturnType<typeof request>;
    const next: InstanceHeartbeat = {
      service: 'customers',
      instanceId: 'customers-next-fake',
      build: 'next',
      schemas: { customers: { readMin: 2, readMax: 4, writes: 4 } },
      flags: {},
      at: new Date(),
    };

    beforeAll(async () => {
      app = await startCustomersApp({ ...env(), INSTANCE_ID: 'customers-v1-ready' });
      http = await authorizedHttp(app);
    });
    afterAll(() => app?.close());

    it('is ready while every live instance writes what it reads, unready while one writes v4, and ready again once it is gone', async () => {
      await http.get('/health/ready').expect(200);
      await store.heartbeats.beat({ ...next, schemas: { customers: { readMin: 1, readMax: 3, writes: 3 } }, at: new Date() }, 30_000);
      await http.get('/health/ready').expect(200);
      await store.heartbeats.beat({ ...next, at: new Date() }, 30_000);
      const res = await http.get('/health/ready').expect(503);
      expect(JSON.stringify(res.body)).toContain('instance customers-next-fake (build next) writes customers v4, but this build reads only v1..v3');
      await store.heartbeats.remove(next.instanceId);
      await http.get('/health/ready').expect(200);
    });

    it('answers 503 naming both versions for a document stamped v4, and leaves it untouched', async () => {
      const { insertedId } = await db.collection('customers').insertOne({ _v: 4, _rev: 1, fullName: 'Ada Lovelace', firstNameLength: 3, status: 'Active' });
      const id = insertedId.toHexString();
      const before = await db.collection('customers').findOne({ _id: insertedId });
      const read = await http.get(`/customers/${id}`).expect(503);
      expect(read.body.message).toBe(`customers document ${id} is at v4, newer than this build can read (deploy a build that reads it, or roll the migration back); this build reads v1..v3`);
      await http.get('/customers').expect(503);
      await http.patch(`/customers/${id}`).send({ lastName: 'King' }).expect(503);
      expect(await db.collection('customers').findOne({ _id: insertedId })).toEqual(before);
    });
  });
});
