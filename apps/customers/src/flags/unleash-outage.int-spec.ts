import type { NestExpressApplication } from '@nestjs/platform-express';
import { CUSTOMERS_COLLECTION, fullNameMigration } from '@zdm/customers-domain';
import { UnleashService, integrationServices, startUnleash } from '@zdm/dev-services';
import { ControlStore, Doc, InstanceHeartbeat, flagNames } from '@zdm/migrations-core';
import { createMongoControlStore } from '@zdm/migrations-mongo';
import { FLAG_SOURCE, UnleashFlagAdmin, UnleashFlagSource } from '@zdm/migrations-nest';
import mongoose, { Connection, mongo } from 'mongoose';
import request from 'supertest';
import { authorizedHttp, startCustomersApp } from '../testing/customers-app.fixture';
import { waitFor } from '@zdm/migrations-core/testing';

jest.setTimeout(180_000);

const services = integrationServices(['mongo']);
const FULL = flagNames(fullNameMigration.id);

/**
 * This suite stops its Unleash server, so it runs its own (a local unleash-server on embedded
 * PostgreSQL, a few seconds to start) instead of the one other suites share.
 */
describe('flags from a real Unleash that is flipped, then stopped', () => {
  let unleash: UnleashService;
  let admin: UnleashFlagAdmin;
  let db: Connection;
  let store: ControlStore;
  const apps: NestExpressApplication[] = [];
  const customers = () => db.collection<Doc>(CUSTOMERS_COLLECTION);
  const start = async (instanceId: string) => {
    const app = await startCustomersApp({
      MONGO_URL: services.mongo.url,
      MONGO_DB: services.mongoDbName,
      UNLEASH_URL: unleash.url,
      UNLEASH_CLIENT_TOKEN: unleash.clientToken,
      UNLEASH_REFRESH_MS: '200',
      HEARTBEAT_INTERVAL_MS: '200',
      INSTANCE_ID: instanceId,
    });
    apps.push(app);
    return app;
  };
  const beatOf = async (instanceId: string): Promise<InstanceHeartbeat | undefined> => (await store.heartbeats.live()).find((h) => h.instanceId === instanceId);
  const storedVersion = async (app: NestExpressApplication) => {
    const { body } = await (await authorizedHttp(app)).post('/customers').send({ firstName: 'Mary Ann', lastName: 'Evans' }).expect(201);
    return (await customers().findOne({ _id: new mongoose.Types.ObjectId(body.id) }))?.['_v'];
  };

  beforeAll(async () => {
    unleash = await startUnleash({ sources: ['local'] });
    admin = new UnleashFlagAdmin({ url: unleash.url, token: unleash.adminToken });
    await admin.set(FULL.writeNew, false);
    db = await mongoose.createConnection(services.mongo.url, { dbName: services.mongoDbName }).asPromise();
    store = createMongoControlStore(db.db as mongo.Db);
  }, 240_000);
  afterAll(async () => {
    for (const app of apps) await app.close();
    await db?.close();
    await unleash?.stop();
  });

  it('picks up flag flips without a restart: writes v2 once write-new is on, reads fullName once read-new is on', async () => {
    const app = await start('flags-1');
    expect(await storedVersion(app)).toBe(1);
    await admin.set(FULL.writeNew, true);
    await waitFor('flags-1 to write v2', async () => (await beatOf('flags-1'))?.schemas[CUSTOMERS_COLLECTION].writes === 2);
    expect(await storedVersion(app)).toBe(2);

    const { insertedId } = await customers().insertOne({ _v: 2, _rev: 1, firstName: 'Old', lastName: 'Name', fullName: 'New Name', firstNameLength: 3 });
    const read = () => request(app.getHttpServer()).get(`/customers/${insertedId.toHexString()}`).expect(200);
    expect((await read()).body.firstName).toBe('Old');
    await admin.set(FULL.readNew, true);
    await waitFor('flags-1 to read fullName', async () => (await read()).body.firstName === 'New');
  });

  it('keeps its last-known flags and keeps serving when the Unleash server is stopped', async () => {
    const [app] = apps;
    const source = app.get<UnleashFlagSource>(FLAG_SOURCE);
    const known = source.snapshot();
    expect(known).toMatchObject({ [FULL.writeNew]: true, [FULL.readNew]: true });

    await unleash.stop();
    const stoppedAt = new Date();
    await waitFor('the flag source to notice Unleash is gone', () => !source.status().connected, 30_000);
    const beat = await waitFor('a heartbeat after the stop', async () => {
      const hb = await beatOf('flags-1');
      return hb && hb.at > stoppedAt ? hb : undefined;
    });
    expect(beat.flags).toEqual(known);
    expect(beat.schemas[CUSTOMERS_COLLECTION].writes).toBe(2);
    expect(await storedVersion(app)).toBe(2);
    const http = await authorizedHttp(app);
    await http.get('/customers?limit=5').expect(200);
    await http.get('/health/ready').expect(200);
  });

  it('starts on the oldest safe path while Unleash is unreachable: write-new off, read-new off, write-old on', async () => {
    const started = Date.now();
    const app = await start('flags-cold');
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(app.get<UnleashFlagSource>(FLAG_SOURCE).snapshot()).toMatchObject({ [FULL.writeNew]: false, [FULL.readNew]: false, [FULL.writeOld]: true });
    expect(await storedVersion(app)).toBe(1);
    // Both instances read v1..v3, so the one still writing v2 does not make the cold one unready.
    await request(app.getHttpServer()).get('/health/ready').expect(200);
  });
});
