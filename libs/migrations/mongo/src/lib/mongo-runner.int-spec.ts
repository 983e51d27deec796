import { fullNameMigration, waitFor } from '@zdm/migrations-core/testing';
import { JobTarget, BatchEvent, Doc, MigrationDefinition, MigrationRegistry, Migrator } from '@zdm/migrations-core';
import mongoose, { Connection, Model, Schema, mongo } from 'mongoose';
import { seedCustomers } from '../test/customers.fixture';
import { present, useTestMongo } from '../test/ferretdb.fixture';
import { advanceTo, ops, testMigrator } from '../test/fleet.fixture';
import { DocumentClaims } from './document.claims';
import { WriteConflictError, createDocumentWriter } from './document.writer';
import { createMongoBackend } from './mongo.backend';
import { versionedPlugin } from './versioned.plugin';

jest.setTimeout(600_000);

const server = useTestMongo('mongo-runner');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function migration(collection: string): MigrationDefinition {
  const name = collection.replace(/_/g, '-');
  return fullNameMigration({ collection, id: `customers.full-name.${name}`, service: `customers-${name}` });
}

/** Runs one async task at a time, in call order. */
class Mutex {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

describe('the runner over MongoDB', () => {
  it('obeys pause, resume and abort within one batch, and a later run resumes from the checkpoint', async () => {
    const def = migration('ops_runner');
    const N = 300;
    await seedCustomers(server.db.collection('ops_runner'), N);
    const registry = MigrationRegistry.create([def]);
    const backend = createMongoBackend({ db: server.db, registry });
    const fixedBatches = { initialBatchSize: 25, minBatchSize: 25, maxBatchSize: 25, targetLatencyMs: 120_000 };
    const migrator = new Migrator({ registry, backend, throttle: fixedBatches, leaseTtlMs: 120_000 });
    await advanceTo(migrator, def, 'backfill');
    const events: BatchEvent[] = [];
    let pausing: Promise<void> | undefined;

    const run = migrator.run(def.id, 'backfill', {
      onBatch: (e) => {
        events.push(e);
        if (e.batch === 2) pausing = migrator.pause(def.id, ops);
      },
    });
    await waitFor('the pause order', () => !!pausing, 120_000);
    await pausing;
    const atPause = events.length;
    await sleep(1_500);
    expect(events.length).toBeLessThanOrEqual(atPause + 1);
    const paused = events.length;
    await sleep(1_000);
    expect(events.length).toBe(paused);

    await migrator.resume(def.id, ops);
    await waitFor('batches after resume', () => events.length >= paused + 2, 120_000);
    await migrator.abort(def.id, ops);
    const atAbort = events.length;
    const aborted = await run;
    expect(aborted.status).toBe('aborted');
    expect(events.length).toBeLessThanOrEqual(atAbort + 1);
    expect(aborted.checkpoint.processed).toBeLessThan(N);
    expect((await migrator.store.audit.list(def.id)).map((e) => e.action)).toEqual(expect.arrayContaining(['pause', 'resume', 'abort']));

    await migrator.resume(def.id, ops);
    const finished = await migrator.run(def.id, 'backfill');
    expect(finished.status).toBe('done');
    expect(finished.checkpoint).toMatchObject({ processed: N, written: N, done: true });
    expect(await backend.counts(def)).toMatchObject({ belowTarget: 0 });
  });

  it('sends each rollback write as its own compare-and-set statement and misses exactly the documents an application changed after the read (atomic updates, as on MongoDB)', async () => {
    const def = migration('grouped_rollback');
    const customers = server.db.collection('grouped_rollback');
    await seedCustomers(customers, 200);
    const watched = new mongo.MongoClient(server.url, { monitorCommands: true });
    await watched.connect();
    // One statement per document is the path of servers whose conditional updates are atomic; here the
    // application writes between the runner's read and write, never at the same time, so FerretDB does too.
    const { migrator, backend } = testMigrator(watched.db(server.dbName), [def], { atomicUpdates: true });
    await advanceTo(migrator, def, 'backfill');
    await migrator.run(def.id, 'backfill');
    const changed: unknown[] = [];
    const updates: number[] = [];
    watched.on('commandStarted', (e) => {
      if (e.commandName === 'update' && e.command['update'] === 'grouped_rollback') updates.push((e.command['updates'] as unknown[]).length);
    });
    const wrapped = new Migrator({
      registry: migrator.registry,
      backend: {
        ...backend,
        target: (d, job) => {
          const target = backend.target(d, job);
          return {
            ...target,
            countRemaining: () => target.countRemaining(),
            reread: (ids) => target.reread(ids),
            writeBatch: (changes) => target.writeBatch(changes),
            readBatch: async (cursor, limit) => {
              const page = await target.readBatch(cursor, limit);
              for (const item of page.items.filter((_, i) => i % 40 === 7)) {
                await customers.updateOne({ _id: item.doc['_id'] } as Doc, { $set: { email: 'changed@example.com' }, $inc: { _rev: 1 } });
                changed.push(item.doc['_id']);
              }
              return page;
            },
          };
        },
      },
      throttle: { initialBatchSize: 100, minBatchSize: 100, maxBatchSize: 100, targetLatencyMs: 120_000 },
      leaseTtlMs: 120_000,
    });
    try {
      const result = await wrapped.rollback(def.id, ops);
      expect(result?.status).toBe('done');
      expect(result?.checkpoint.conflicts).toBe(changed.length);
    } finally {
      await watched.close();
    }
    expect(changed.length).toBe(6);
    // Two pages of 100 and, after each, one retry of its 3 missed documents: one statement per
    // document, whose answer says exactly whether it landed (a grouped statement reports only a total).
    expect(updates).toEqual(new Array(206).fill(1));
    const after = await customers.find({}).toArray();
    expect(after.filter((d) => 'fullName' in d || '_v' in d)).toEqual([]);
    expect(after.filter((d) => d['email'] === 'changed@example.com').map((d) => String(d['_id'])).sort()).toEqual(changed.map(String).sort());
  });

  describe('next to an application writing through the versioned plugin', () => {
    let conn: Connection;
    afterAll(() => conn?.close());

    it('never loses an acknowledged application write, and ends with every document at v2 and a fullName matching its names', async () => {
      const collection = 'busy_customers';
      const def = migration(collection);
      const N = 300;
      await seedCustomers(server.db.collection(collection), N);
      conn = await mongoose.createConnection(server.url, { dbName: server.dbName }).asPromise();
      const schema = new Schema<Doc>({ firstName: String, lastName: String, fullName: String, email: String }, { collection, versionKey: false });
      schema.plugin(versionedPlugin, { registry: MigrationRegistry.create([def]), collection, readMin: 1, readMax: 2, writeVersion: () => 2 });
      const Customer = conn.model<Doc>('BusyCustomer', schema) as unknown as Model<Doc>;

      const { migrator, backend } = testMigrator(server.db, [def]);
      await advanceTo(migrator, def, 'backfill');
      const ids = (await server.db.collection(collection).find({}, { projection: { _id: 1 } }).toArray()).map((d) => d['_id']);
      const expected = new Map<string, Doc>();
      const acked = (id: unknown, fields: Doc) => expected.set(String(id), { ...expected.get(String(id)), ...fields });
      let writes = 0;
      const rename = async (id: unknown, tag: string) => {
        const firstName = `F-${tag}`;
        const lastName = `L-${tag}`;
        await Customer.findOneAndUpdate({ _id: id }, { $set: { firstName, lastName, fullName: `${firstName} ${lastName}` } });
        acked(id, { firstName, lastName });
        writes++;
      };

      // FerretDB 1.x reads and writes a document in separate steps inside one update, so two writes
      // racing inside the server can lose one (FerretDB issue #3040; MongoDB is atomic per document).
      // The writer therefore never runs while the runner's bulk write is on the server; every other
      // interleaving is free, including writes between the runner's read and its write.
      const server_ = new Mutex();
      let injected = 0;
      const wrap = (target: JobTarget): JobTarget => ({
        countRemaining: () => target.countRemaining(),
        reread: (batchIds) => target.reread(batchIds),
        readBatch: async (cursor, limit) => {
          const page = await target.readBatch(cursor, limit);
          // Application writes after the runner read these documents: its compare-and-set must miss.
          for (const item of page.items.slice(0, 2)) {
            await server_.run(() => rename(item.doc['_id'], `injected-${injected++}`));
          }
          return page;
        },
        writeBatch: (changes) => server_.run(() => target.writeBatch(changes)),
      });
      const gated = new Migrator({
        registry: migrator.registry,
        backend: { ...backend, target: (d, job) => wrap(backend.target(d, job)) },
        throttle: { initialBatchSize: 50, minBatchSize: 50, maxBatchSize: 50, targetLatencyMs: 120_000 },
        leaseTtlMs: 120_000,
      });

      let stop = false;
      let step = 0;
      const writer = (async () => {
        while (!stop) {
          const id = ids[(step * 7919) % ids.length];
          const kind = step++ % 4;
          await server_.run(async () => {
            if (kind === 0) await rename(id, `w${step}`);
            else if (kind === 1) {
              await Customer.updateOne({ _id: id }, { $set: { email: `partial-${step}@example.com` } });
              acked(id, { email: `partial-${step}@example.com` });
            } else if (kind === 2) {
              const doc = present(await Customer.findById(id));
              doc.set('email', `saved-${step}@example.com`);
              await doc.save();
              acked(id, { email: `saved-${step}@example.com` });
            } else {
              const created = await Customer.create({ firstName: `New${step}`, lastName: 'Writer', fullName: `New${step} Writer`, email: 'n@example.com' });
              acked(created._id, { firstName: `New${step}`, lastName: 'Writer', email: 'n@example.com' });
            }
            writes++;
          });
          await sleep(5);
        }
      })();

      const result = await gated.run(def.id, 'backfill');
      stop = true;
      await writer;

      expect(result.status).toBe('done');
      expect(result.checkpoint.conflicts).toBeGreaterThanOrEqual(injected);
      expect(injected).toBeGreaterThan(0);
      expect(writes).toBeGreaterThan(injected);
      const stored = await server.db.collection(collection).find({}).toArray();
      expect(stored.length).toBe(N + [...expected.values()].filter((v) => v['lastName'] === 'Writer').length);
      const lost = [...expected].filter(([id, fields]) => {
        const doc = stored.find((d) => String(d['_id']) === id);
        return !doc || Object.entries(fields).some(([k, v]) => doc[k] !== v);
      });
      expect(lost).toEqual([]);
      const wrong = stored.filter((d) => d['_v'] !== 2 || d['fullName'] !== `${d['firstName']} ${d['lastName']}`);
      expect(wrong).toEqual([]);
      expect(await backend.counts(def)).toMatchObject({ belowTarget: 0, quarantined: 0 });
    });
  });

  it('with per-document claims, claims a whole batch at once until it meets another writer, then 40 documents at a time', async () => {
    const collection = 'claim_groups';
    const def = migration(collection);
    await seedCustomers(server.db.collection(collection), 600);
    const { migrator, backend } = testMigrator(server.db, [def], { atomicUpdates: false });
    await advanceTo(migrator, def, 'backfill');
    const ids = (await server.db.collection(collection).find({}, { projection: { _id: 1 } }).sort({ _id: 1 }).toArray()).map((d) => String(d['_id']));
    // An application writer holds document 350 (in the 4th batch of 100) until the runner has met its claim once.
    const release = present(await new DocumentClaims(server.db).take(collection, ids[350]));
    const groups: number[] = [];
    const takeMany = DocumentClaims.prototype.takeMany;
    const spy = jest.spyOn(DocumentClaims.prototype, 'takeMany').mockImplementation(async function (this: DocumentClaims, namespace, wanted, owner) {
      const claimed = await takeMany.call(this, namespace, wanted, owner);
      if (owner?.startsWith('runner:')) {
        groups.push(wanted.length);
        if (claimed.taken.length < wanted.length) await release();
      }
      return claimed;
    });
    try {
      const result = await migrator.run(def.id, 'backfill');
      expect(result.status).toBe('done');
      expect(result.checkpoint).toMatchObject({ written: 600, conflicts: 1 });
    } finally {
      spy.mockRestore();
    }
    expect(groups.slice(0, 4)).toEqual([100, 100, 100, 100]);
    // The rest of the 4th batch, its retry of document 350, and batches 5 and 6, 40 documents at most each.
    expect(groups.slice(4).every((n) => n <= 40)).toBe(true);
    expect(groups.slice(4).reduce((a, b) => a + b, 0)).toBe(1 + 200);
    expect(await backend.counts(def)).toMatchObject({ belowTarget: 0, quarantined: 0 });
  });

  it('with per-document claims, an application writer racing the runner freely (no ordering imposed) loses no write', async () => {
    const collection = 'claimed_customers';
    const def = migration(collection);
    const N = 1000;
    await seedCustomers(server.db.collection(collection), N);
    const customers = server.db.collection(collection);
    const { migrator, backend } = testMigrator(server.db, [def], { atomicUpdates: false });
    await advanceTo(migrator, def, 'backfill');
    const ids = (await customers.find({}, { projection: { _id: 1 } }).toArray()).map((d) => d['_id']);
    const writer = createDocumentWriter(server.db, { atomicUpdates: false });
    const expected = new Map<string, Doc>();
    let writes = 0;
    let waited = 0;
    let stop = false;
    // What the customers repository does: write through the document writer (claims, on this setting).
    const writers = [1, 2].map(async (w) => {
      for (let step = 0; !stop; step++) {
        const id = ids[(step * 7919 + w * 31) % ids.length];
        const firstName = `W${w}-${step}`;
        let result;
        try {
          result = await writer.update(
            collection,
            String(id),
            {
              read: () => customers.findOne({ _id: id }),
              decide: (current) => {
                const set: Doc = { firstName, email: `${firstName}@example.com` };
                if (current['_v'] === 2) set['fullName'] = `${firstName} ${String(current['lastName'])}`;
                return { $set: set, $inc: { _rev: 1 } };
              },
              write: async (filter, update) => ((await customers.updateOne(filter, update)).matchedCount === 1 ? true : null),
            },
            { maxAttempts: 1 },
          );
        } catch (err) {
          if (!(err instanceof WriteConflictError)) throw err;
          waited++;
          await sleep(2);
          continue;
        }
        if (!result || !('written' in result)) throw new Error(`customer ${String(id)} was not renamed`);
        expected.set(String(id), { firstName, email: `${firstName}@example.com` });
        writes++;
      }
    });
    const result = await migrator.run(def.id, 'backfill');
    stop = true;
    await Promise.all(writers);

    expect(result.status).toBe('done');
    expect(writes).toBeGreaterThan(50);
    const stored = new Map((await customers.find({}).toArray()).map((d) => [String(d['_id']), d as Doc]));
    const lost = [...expected].filter(([id, fields]) => Object.entries(fields).some(([k, v]) => stored.get(id)?.[k] !== v));
    expect(lost).toEqual([]);
    const wrong = [...stored.values()].filter((d) => d['_v'] !== 2 || d['fullName'] !== `${d['firstName']} ${d['lastName']}`);
    expect(wrong).toEqual([]);
    expect(await backend.counts(def)).toMatchObject({ belowTarget: 0, quarantined: 0 });
    expect(await server.db.collection('zdm_claims').countDocuments()).toBe(0);
    // Not an assertion of timing: only that the two really met (a claim was found taken at least once, or a write conflicted).
    expect(waited + result.checkpoint.conflicts).toBeGreaterThan(0);
  });
});
