import type { NestExpressApplication } from '@nestjs/platform-express';
import { CUSTOMERS_COLLECTION, fullNameMigration } from '@zdm/customers-domain';
import { integrationServices } from '@zdm/dev-services';
import { ControlStore, Doc, GateRefusedError, Migrator, flagNames } from '@zdm/migrations-core';
import { UnleashFlagAdmin } from '@zdm/migrations-nest';
import mongoose, { Connection, mongo } from 'mongoose';
import request from 'supertest';
import { authorizedHttp, startCustomersApp } from '../testing/customers-app.fixture';
import { MaterializedRelease, ReleaseProcess, materializeRelease, startRelease, stopRelease } from '../testing/release-process';
import { followingUnleash, operatorFor } from '../testing/migration-suite.fixture';
import { waitFor } from '@zdm/migrations-core/testing';

jest.setTimeout(180_000);

const services = integrationServices(['mongo', 'unleash']);

const who = { actor: 'blue-green.int-spec', reason: 'blue-green test' };
const FULL = flagNames(fullNameMigration.id);

describe('blue (release v1, extracted from git history) next to green (this build)', () => {
  let release: MaterializedRelease & { remove(): void };
  let blue: ReleaseProcess;
  let green: NestExpressApplication;
  let greenHttp: ReturnType<typeof request>;
  let db: Connection;
  let store: ControlStore;
  let admin: UnleashFlagAdmin;
  let migrator: Migrator;
  const customers = () => db.collection<Doc>(CUSTOMERS_COLLECTION);
  const oid = (id: string) => new mongoose.Types.ObjectId(id);
  const blueFetch = async (path: string, init: RequestInit & { json?: unknown } = {}) => {
    const res = await fetch(`${blue.url}${path}`, {
      ...init,
      headers: init.json === undefined ? undefined : { 'content-type': 'application/json' },
      body: init.json === undefined ? undefined : JSON.stringify(init.json),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
  const greenWrites = (version: number) =>
    waitFor(`green to report writing v${version}`, async () => {
      const hb = (await store.heartbeats.live()).find((h) => h.instanceId === 'green-1');
      return hb?.schemas[CUSTOMERS_COLLECTION]?.writes === version;
    });

  beforeAll(async () => {
    db = await mongoose.createConnection(services.mongo.url, { dbName: services.mongoDbName }).asPromise();
    ({ admin, migrator, store } = await operatorFor(db.db as mongo.Db, services.unleash));
    release = await materializeRelease('customers', 'v1');
    console.info(`[blue-green] release v1 = ${release.commit}; libraries from later commits: ${JSON.stringify(release.overlays)}`);
    const mongoEnv = { MONGO_URL: services.mongo.url, MONGO_DB: services.mongoDbName, HEARTBEAT_INTERVAL_MS: '200' };
    [blue, green] = await Promise.all([
      startRelease(release, { ...mongoEnv, INSTANCE_ID: 'blue-1', SHUTDOWN_DRAIN_MS: '200' }),
      startCustomersApp(followingUnleash(services.unleash, { ...mongoEnv, INSTANCE_ID: 'green-1', BUILD: 'green' })),
    ]);
    greenHttp = await authorizedHttp(green);
    await greenWrites(1);
  });
  afterAll(async () => {
    await stopRelease(blue);
    await green?.close();
    await db?.close();
    release?.remove();
  });

  it('blue is the recorded v1 commit: reads and writes v1 only, and does not know fullName', async () => {
    expect(release.commit).toMatch(/^[0-9a-f]{40}$/);
    const hb = await waitFor('blue to beat', async () => (await store.heartbeats.live()).find((h) => h.instanceId === 'blue-1'));
    expect(hb).toMatchObject({ build: 'customers-v1', schemas: { customers: { readMin: 1, readMax: 1, writes: 1 } }, flags: {} });
    expect([hb.schemas['customers'].readMin, hb.schemas['customers'].readMax]).toEqual(release.reads);
    const docs = await blueFetch('/docs-json');
    expect(Object.keys(docs.body.components.schemas.CreateCustomerDto.properties).sort()).toEqual(['firstName', 'lastName']);
    const res = await blueFetch('/customers', { method: 'POST', json: { fullName: 'Ada Lovelace' } });
    expect(res.status).toBe(400);
    expect(res.body.details).toContainEqual({ field: 'fullName', errors: ['property fullName should not exist'] });
  });

  it('in expand, blue and green read and change each other\'s documents', async () => {
    const fromBlue = await blueFetch('/customers', { method: 'POST', json: { firstName: 'Ludwig', lastName: 'van Beethoven' } });
    expect(fromBlue.status).toBe(201);
    expect((await greenHttp.get(`/customers/${fromBlue.body.id}`).expect(200)).body).toMatchObject({
      firstName: 'Ludwig',
      lastName: 'van Beethoven',
      fullName: 'Ludwig van Beethoven',
      status: 'Active',
    });

    const fromGreen = (await greenHttp.post('/customers').send({ fullName: 'Mary Ann Evans' }).expect(201)).body;
    expect((await blueFetch(`/customers/${fromGreen.id}`)).body).toMatchObject({ firstName: 'Mary Ann', lastName: 'Evans' });

    await greenHttp.patch(`/customers/${fromBlue.body.id}`).send({ firstName: 'L.' }).expect(200);
    expect((await blueFetch(`/customers/${fromBlue.body.id}`)).body).toMatchObject({ firstName: 'L.', lastName: 'van Beethoven' });
    expect((await blueFetch(`/customers/${fromGreen.id}`, { method: 'PATCH', json: { lastName: 'Cross' } })).status).toBe(200);
    expect((await greenHttp.get(`/customers/${fromGreen.id}`).expect(200)).body).toMatchObject({ fullName: 'Mary Ann Cross' });

    expect((await blueFetch('/health/ready')).status).toBe(200);
    await greenHttp.get('/health/ready').expect(200);
  });

  it('blue (v1, before access tokens) takes a write without a token; green refuses the same write with 401 until it carries one', async () => {
    const anonymous = { firstName: 'Anon', lastName: 'Ymous' };
    expect((await blueFetch('/customers', { method: 'POST', json: anonymous })).status).toBe(201);
    const refused = await request(green.getHttpServer()).post('/customers').send(anonymous).expect(401);
    expect(refused.headers['www-authenticate']).toBe('Bearer');
    await greenHttp.post('/customers').send(anonymous).expect(201);
  });

  it('the gate refuses dual-write while blue is live, and names it', async () => {
    expect(await migrator.advance(fullNameMigration.id, who)).toBe('expand');
    const refused = await migrator.advance(fullNameMigration.id, who).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(GateRefusedError);
    expect((refused as Error).message).toMatch(/all-instances-read-new: not yet: blue-1 \(customers-v1\)/);
  });

  it('when a v2 document appears anyway (write-new flipped by hand), blue turns unready and fails loudly on it instead of mangling it', async () => {
    const v1Doc = (await greenHttp.post('/customers').send({ firstName: 'Still', lastName: 'Readable' }).expect(201)).body;
    await admin.set(FULL.writeNew, true);
    await greenWrites(2);

    const ready = await blueFetch('/health/ready');
    expect(ready.status).toBe(503);
    expect(JSON.stringify(ready.body)).toContain('instance green-1 (build green) writes customers v2, but this build reads only v1..v1');

    const expanded = (await greenHttp.post('/customers').send({ firstName: 'Grace', lastName: 'Hopper' }).expect(201)).body;
    const stored = await customers().findOne({ _id: oid(expanded.id) });
    expect(stored).toMatchObject({ _v: 2, firstName: 'Grace', lastName: 'Hopper', fullName: 'Grace Hopper' });

    const read = await blueFetch(`/customers/${expanded.id}`);
    expect(read.status).toBe(503);
    expect(read.body.message).toMatch(/v2/);
    expect((await blueFetch(`/customers/${expanded.id}`, { method: 'PATCH', json: { lastName: 'Murray' } })).status).toBe(503);
    expect(await customers().findOne({ _id: oid(expanded.id) })).toEqual(stored);
    expect((await blueFetch('/customers?limit=100')).status).toBe(503);
    expect((await blueFetch(`/customers/${v1Doc.id}`)).status).toBe(200);

    // Flag back: green writes v1 again, so blue is ready again; green rewriting the document makes it v1 for blue.
    await admin.set(FULL.writeNew, false);
    await greenWrites(1);
    await waitFor('blue to be ready again', async () => (await blueFetch('/health/ready')).status === 200);
    await greenHttp.patch(`/customers/${expanded.id}`).send({ lastName: 'Hopper' }).expect(200);
    expect(await customers().findOne({ _id: oid(expanded.id) })).not.toHaveProperty('fullName');
    expect((await blueFetch(`/customers/${expanded.id}`)).body).toMatchObject({ firstName: 'Grace', lastName: 'Hopper' });
  });

  it('on SIGTERM blue drains, exits 0 and removes its heartbeat, after which dual-write may begin', async () => {
    blue.child.kill('SIGTERM');
    expect(await blue.exited).toEqual({ code: 0, signal: null });
    expect((await store.heartbeats.live()).map((h) => h.instanceId)).toEqual(['green-1']);
    expect(await migrator.advance(fullNameMigration.id, who)).toBe('dual-write');
    await greenWrites(2);
  });

  it('after a rollback from dual-write, a fresh blue reads every document again, those green wrote as v2 included', async () => {
    const dual = (await greenHttp.post('/customers').send({ firstName: 'Ludwig', lastName: 'van Beethoven' }).expect(201)).body;
    expect(await customers().findOne({ _id: oid(dual.id) })).toMatchObject({ _v: 2, fullName: 'Ludwig van Beethoven' });
    expect((await migrator.rollback(fullNameMigration.id, who))?.status).toBe('done');
    await greenWrites(1);
    expect(await customers().countDocuments({ _v: { $ne: 1 }, fullName: { $exists: true } })).toBe(0);

    blue = await startRelease(release, { MONGO_URL: services.mongo.url, MONGO_DB: services.mongoDbName, HEARTBEAT_INTERVAL_MS: '200', INSTANCE_ID: 'blue-2' });
    expect((await blueFetch('/health/ready')).status).toBe(200);
    const all = await blueFetch('/customers?limit=100');
    expect(all.status).toBe(200);
    expect(all.body.items.length).toBe(await customers().countDocuments());
    expect((await blueFetch(`/customers/${dual.id}`)).body).toMatchObject({ firstName: 'Ludwig', lastName: 'van Beethoven' });
  });
});
