import type { NestExpressApplication } from '@nestjs/platform-express';
import { CUSTOMERS_COLLECTION, fullNameMigration, statusMigration } from '@zdm/customers-domain';
import { integrationServices } from '@zdm/dev-services';
import { ControlStore, Doc, GateRefusedError, MigrationDefinition, Migrator, Phase, flagNames, flagsForPhase } from '@zdm/migrations-core';
import mongoose, { Connection, mongo } from 'mongoose';
import request from 'supertest';
import { authorizedHttp, startCustomersApp } from '../testing/customers-app.fixture';
import { PENDING_FLAGS, followingUnleash, operatorFor } from '../testing/migration-suite.fixture';
import { waitFor } from '@zdm/migrations-core/testing';

jest.setTimeout(120_000);

// FerretDB and Unleash from MONGO_URL / UNLEASH_* (npm test), else local servers.
const services = integrationServices(['mongo', 'unleash']);

const who = { actor: 'customers.phases.int-spec', reason: 'phase test' };
const STATUS = flagNames(statusMigration.id);

describe('customers through every phase of full-name (v1 -> v2) and status (v2 -> v3), on FerretDB with Unleash', () => {
  let app: NestExpressApplication;
  let http: ReturnType<typeof request>;
  let db: Connection;
  let migrator: Migrator;
  let store: ControlStore;
  const customers = () => db.collection<Doc>(CUSTOMERS_COLLECTION);
  const raw = (id: string) => customers().findOne({ _id: new mongoose.Types.ObjectId(id) });
  const ids: Record<string, string> = {};
  let v1Snapshot: Doc[] = [];

  /** Waits until the instance's heartbeat reports these flag values (so it acts on them). */
  const seen = (flags: Record<string, boolean>) =>
    waitFor(`the instance to report ${JSON.stringify(flags)}`, async () => {
      const [hb] = await store.heartbeats.live();
      return hb && Object.entries(flags).every(([name, value]) => hb.flags[name] === value) ? hb : undefined;
    });
  const advance = async (def: MigrationDefinition, to: Phase) => {
    expect(await migrator.advance(def.id, who)).toBe(to);
    await seen(flagsForPhase(def, to));
  };
  const create = async (body: Doc) => (await http.post('/customers').send(body).expect(201)).body;
  const everything = async () => {
    const all: Doc[] = [];
    let after: string | null = null;
    do {
      const res: request.Response = await http.get('/customers').query({ limit: 50, ...(after ? { after } : {}) }).expect(200);
      all.push(...res.body.items);
      after = res.body.next;
    } while (after);
    return all;
  };

  beforeAll(async () => {
    db = await mongoose.createConnection(services.mongo.url, { dbName: services.mongoDbName }).asPromise();
    ({ migrator, store } = await operatorFor(db.db as mongo.Db, services.unleash));
    app = await startCustomersApp(
      followingUnleash(services.unleash, { MONGO_URL: services.mongo.url, MONGO_DB: services.mongoDbName, INSTANCE_ID: 'green-1', BUILD: 'green' }),
    );
    http = await authorizedHttp(app);
    await seen(PENDING_FLAGS);
  });
  afterAll(async () => {
    await app?.close();
    await db?.close();
  });

  it('expand: stores v1 documents, and shows fullName, status and marketingPreferences derived from them', async () => {
    await advance(fullNameMigration, 'expand');
    const ludwig = await create({ firstName: 'Ludwig', lastName: 'van Beethoven' });
    const mary = await create({ firstName: 'Mary Ann', lastName: 'Evans' });
    const cher = await create({ firstName: 'Cher', lastName: '' });
    const ada = await create({ fullName: 'Ada King Lovelace' });
    Object.assign(ids, { ludwig: ludwig.id, mary: mary.id, cher: cher.id, ada: ada.id });

    expect(ludwig).toMatchObject({ firstName: 'Ludwig', lastName: 'van Beethoven', fullName: 'Ludwig van Beethoven', status: 'Active', marketingPreferences: null });
    expect(ada).toMatchObject({ firstName: 'Ada King', lastName: 'Lovelace', fullName: 'Ada King Lovelace' });
    const stored = await raw(ludwig.id);
    expect(stored).toMatchObject({ _v: 1, firstName: 'Ludwig', lastName: 'van Beethoven' });
    expect(stored).not.toHaveProperty('fullName');
    expect(stored).not.toHaveProperty('status');

    const early = await http.post('/customers').send({ firstName: 'Too', lastName: 'Early', status: 'Inactive' }).expect(409);
    expect(early.body.message).toMatch(/once this instance writes customers v3/);
    // Ludwig and Ada are never written again: after the rollback they must be exactly these documents.
    v1Snapshot = await customers().find({ _id: { $in: [ludwig.id, ada.id].map((id) => new mongoose.Types.ObjectId(id)) } }).sort({ _id: 1 }).toArray();
  });

  it('dual-write: stores v2 documents that keep firstName and lastName, and still reads the old fields', async () => {
    await advance(fullNameMigration, 'dual-write');
    const [hb] = await store.heartbeats.live();
    expect(hb.schemas[CUSTOMERS_COLLECTION]).toEqual({ readMin: 1, readMax: 3, writes: 2 });

    const grace = await create({ firstName: 'Grace', lastName: 'Hopper' });
    ids['grace'] = grace.id;
    expect(await raw(grace.id)).toMatchObject({ _v: 2, firstName: 'Grace', lastName: 'Hopper', fullName: 'Grace Hopper', firstNameLength: 5 });

    await http.patch(`/customers/${ids['cher']}`).send({ lastName: 'Sarkisian' }).expect(200);
    expect(await raw(ids['cher'])).toMatchObject({ _v: 2, firstName: 'Cher', lastName: 'Sarkisian', fullName: 'Cher Sarkisian', firstNameLength: 4 });

    // A document whose two shapes disagree: the old fields are the truth until switch-reads.
    const { insertedId } = await customers().insertOne({ _v: 2, _rev: 1, firstName: 'Old', lastName: 'Name', fullName: 'New Name', firstNameLength: 3 });
    ids['odd'] = insertedId.toHexString();
    expect((await http.get(`/customers/${ids['odd']}`).expect(200)).body).toMatchObject({ firstName: 'Old', lastName: 'Name', fullName: 'Old Name' });
    const metrics = (await http.get('/metrics').expect(200)).text;
    expect(metrics).toMatch(/zdm_migration_verify_mismatches_total\{migration="customers.full-name",source="shadow-read"\} [1-9]/);
  });

  it('backfill: the runner brings every document to v2 without changing what the API returns', async () => {
    await advance(fullNameMigration, 'backfill');
    const before = await everything();
    expect(await customers().countDocuments({ $or: [{ _v: { $lt: 2 } }, { _v: { $exists: false } }] })).toBeGreaterThan(0);
    const result = await migrator.run(fullNameMigration.id, 'backfill');
    expect(result.status).toBe('done');
    expect(await customers().countDocuments({ $or: [{ _v: { $lt: 2 } }, { _v: { $exists: false } }] })).toBe(0);
    expect(await raw(ids['ludwig'])).toMatchObject({ _v: 2, firstName: 'Ludwig', lastName: 'van Beethoven', fullName: 'Ludwig van Beethoven', firstNameLength: 6 });
    expect(await everything()).toEqual(before);
    await advance(fullNameMigration, 'verify');
  });

  it('verify: quarantines the document whose names disagree, refuses to advance, and passes once it is fixed', async () => {
    const first = await migrator.verify(fullNameMigration.id);
    expect(first.report.mismatches).toBe(1);
    expect(first.roundTrip.reversible).toBe(true);
    const [entry] = await migrator.quarantined(fullNameMigration.id);
    expect(entry).toMatchObject({ docId: ids['odd'], stage: 'verify' });
    expect(entry.reason).toContain('is not firstName and lastName joined');
    await expect(migrator.advance(fullNameMigration.id, who)).rejects.toThrow(GateRefusedError);

    await http.patch(`/customers/${ids['odd']}`).send({ firstName: 'Old', lastName: 'Name' }).expect(200);
    expect((await migrator.retryQuarantined(fullNameMigration.id, who)).still).toEqual([]);
    expect((await migrator.verify(fullNameMigration.id)).report).toMatchObject({ mismatches: 0, shadowMismatches: 0 });
  });

  it('switch-reads: takes names from fullName, and still writes both shapes', async () => {
    await advance(fullNameMigration, 'switch-reads');
    await customers().updateOne({ _id: new mongoose.Types.ObjectId(ids['grace']) }, { $set: { firstName: 'Stale' } });
    expect((await http.get(`/customers/${ids['grace']}`).expect(200)).body).toMatchObject({ firstName: 'Grace', lastName: 'Hopper' });
    await http.patch(`/customers/${ids['grace']}`).send({ lastName: 'Murray Hopper' }).expect(200);
    expect(await raw(ids['grace'])).toMatchObject({ firstName: 'Grace', lastName: 'Murray Hopper', fullName: 'Grace Murray Hopper', firstNameLength: 5 });
  });

  it('contract: stops writing the old fields and removes them, while old clients still get the exact parts', async () => {
    await advance(fullNameMigration, 'contract');
    const alan = await create({ firstName: 'Alan', lastName: 'Turing' });
    ids['alan'] = alan.id;
    const stored = await raw(alan.id);
    expect(stored).toMatchObject({ _v: 2, fullName: 'Alan Turing', firstNameLength: 4 });
    expect(stored).not.toHaveProperty('firstName');

    const result = await migrator.run(fullNameMigration.id, 'contract');
    expect(result.status).toBe('done');
    expect(await customers().countDocuments({ $or: [{ firstName: { $exists: true } }, { lastName: { $exists: true } }] })).toBe(0);
    const byId = Object.fromEntries((await everything()).map((c) => [c['id'], c]));
    expect(byId[ids['ludwig']]).toMatchObject({ firstName: 'Ludwig', lastName: 'van Beethoven', fullName: 'Ludwig van Beethoven' });
    expect(byId[ids['mary']]).toMatchObject({ firstName: 'Mary Ann', lastName: 'Evans' });
    expect(byId[ids['cher']]).toMatchObject({ firstName: 'Cher', lastName: 'Sarkisian' });
    await advance(fullNameMigration, 'complete');
  });

  it('status, additive: a read-time default first, then v3 writers and an eager backfill, without dual-write', async () => {
    const [plan] = await migrator.plan([statusMigration.id]);
    expect(plan.strategy).toBe('additive');
    expect(plan.phases.map((p) => p.phase)).toEqual(['expand', 'backfill', 'verify', 'complete']);
    expect(plan.phases.find((p) => p.phase === 'backfill')?.does).toMatch(/the runner rewrites every v2 document to v3 \(no dual-write needed/);

    await advance(statusMigration, 'expand');
    expect((await http.get(`/customers/${ids['ludwig']}`).expect(200)).body).toMatchObject({ status: 'Active', marketingPreferences: null });
    expect(await raw(ids['ludwig'])).not.toHaveProperty('status');
    await http.patch(`/customers/${ids['ludwig']}`).send({ status: 'Blocked' }).expect(409);

    await advance(statusMigration, 'backfill');
    expect((await store.heartbeats.live())[0].schemas[CUSTOMERS_COLLECTION].writes).toBe(3);
    const linus = await create({ firstName: 'Linus', lastName: 'Torvalds', status: 'Inactive', marketingPreferences: { email: true, sms: false } });
    expect(await raw(linus.id)).toMatchObject({ _v: 3, status: 'Inactive', marketingPreferences: { email: true, sms: false }, fullName: 'Linus Torvalds' });
    await http.patch(`/customers/${ids['mary']}`).send({ marketingPreferences: { email: false, sms: true } }).expect(200);

    expect((await migrator.run(statusMigration.id, 'backfill')).status).toBe('done');
    expect(await customers().countDocuments({ _v: { $ne: 3 } })).toBe(0);
    expect(await raw(ids['ludwig'])).toMatchObject({ _v: 3, status: 'Active', marketingPreferences: null });
    expect(await raw(ids['mary'])).toMatchObject({ _v: 3, status: 'Active', marketingPreferences: { email: false, sms: true } });
    await advance(statusMigration, 'verify');
    expect((await migrator.verify(statusMigration.id)).report.mismatches).toBe(0);
    await advance(statusMigration, 'complete');
  });

  it('rolls back in reverse order: status, then full-name, restoring the untouched v1 documents exactly', async () => {
    const before = await everything();
    expect((await migrator.rollback(statusMigration.id, who))?.status).toBe('done');
    await seen({ [STATUS.writeNew]: false });
    expect((await migrator.rollback(fullNameMigration.id, who))?.status).toBe('done');
    await seen(PENDING_FLAGS);
    expect(await customers().countDocuments({ _v: { $ne: 1 } })).toBe(0);
    expect(await customers().find({ _id: { $in: v1Snapshot.map((d) => d['_id'] as mongoose.Types.ObjectId) } }).sort({ _id: 1 }).toArray()).toEqual(v1Snapshot);
    const after = await everything();
    const names = (list: Doc[]) => list.map(({ id, firstName, lastName, fullName }) => ({ id, firstName, lastName, fullName }));
    expect(names(after)).toEqual(names(before));
    expect(await raw(ids['grace'])).toMatchObject({ _v: 1, firstName: 'Grace', lastName: 'Murray Hopper' });
    expect(await raw(ids['mary'])).toMatchObject({ _v: 1, firstName: 'Mary Ann', lastName: 'Evans' });
    expect(await raw(ids['mary'])).not.toHaveProperty('marketingPreferences');
  });
});
