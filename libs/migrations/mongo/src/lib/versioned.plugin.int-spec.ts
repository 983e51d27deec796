import { customerDoc, fullNameMigration } from '@zdm/migrations-core/testing';
import { Doc, MigrationRegistry } from '@zdm/migrations-core';
import mongoose, { Connection, Model, Schema } from 'mongoose';
import { present, useTestMongo } from '../test/ferretdb.fixture';
import { UnreadableVersionError, UnwritableVersionError, UpcastEvent } from './schema-version.upcaster';
import { VersionedModelStatics, versionedPlugin } from './versioned.plugin';

jest.setTimeout(60_000);

const server = useTestMongo('versioned-plugin');
const COLLECTION = 'plugin_customers';

type CustomerModel = Model<Doc> & VersionedModelStatics;

describe('versionedPlugin with mongoose', () => {
  let conn: Connection;
  let Customer: CustomerModel;
  let writes = 2;
  const upcasts: UpcastEvent[] = [];
  const raw = () => present(conn.db).collection(COLLECTION);
  const stored = (_id: unknown) => raw().findOne({ _id } as Doc);

  beforeAll(async () => {
    conn = await mongoose.createConnection(server.url, { dbName: server.dbName }).asPromise();
    const schema = new Schema<Doc>({ firstName: String, lastName: String, fullName: String, email: String }, { collection: COLLECTION, versionKey: false });
    schema.plugin(versionedPlugin, {
      registry: MigrationRegistry.create([fullNameMigration({ collection: COLLECTION })]),
      collection: COLLECTION,
      readMin: 1,
      readMax: 2,
      writeVersion: () => writes,
      onUpcast: (e: UpcastEvent) => upcasts.push(e),
    });
    Customer = conn.model<Doc>('Customer', schema) as unknown as CustomerModel;
  });
  afterAll(() => conn?.close());
  beforeEach(async () => {
    writes = 2;
    upcasts.length = 0;
    await raw().deleteMany({});
  });

  const insertRaw = async (doc: Doc) => (await raw().insertOne({ ...doc })).insertedId;

  describe('reads', () => {
    it('upcasts a v1 document in memory on hydration, reports it, and leaves the stored document alone', async () => {
      const id = await insertRaw(customerDoc(1));
      const found = await Customer.findById(id);
      expect(found?.get('fullName')).toBe('First1 Last1');
      expect(found?.get('_v')).toBe(2);
      expect(upcasts).toEqual([{ collection: COLLECTION, id, from: 1, to: 2 }]);
      expect(await stored(id)).toEqual({ _id: id, ...customerDoc(1) });
    });

    it('upcasts lean() results, one document or many, through Model.upcastLean', async () => {
      const v1 = await insertRaw(customerDoc(2));
      const v2 = await insertRaw({ ...customerDoc(3), fullName: 'Kept As Stored', _v: 2, _rev: 4 });
      const one = Customer.upcastLean(await Customer.findById(v1).lean());
      expect(one).toMatchObject({ _id: v1, fullName: 'First2 Last2', _v: 2 });
      const many = Customer.upcastLean(await Customer.find({}).sort({ _id: 1 }).lean());
      expect(many.map((d: Doc) => d['fullName'])).toEqual(['First2 Last2', 'Kept As Stored']);
      expect(many[1]).toMatchObject({ _id: v2, _rev: 4 });
      expect(Customer.upcastLean(null)).toBeNull();
    });

    it('fails loudly, naming the _id and the versions, on a document newer than the build reads', async () => {
      const id = await insertRaw({ ...customerDoc(4), _v: 3 });
      const read = Customer.findById(id).exec();
      await expect(read).rejects.toBeInstanceOf(UnreadableVersionError);
      await expect(Customer.findById(id).exec()).rejects.toThrow(`${COLLECTION} document ${String(id)} is at v3, newer than this build can read`);
      await expect(Customer.findById(id).exec()).rejects.toThrow('this build reads v1..v2');
      expect(() => Customer.upcastLean({ _id: id, _v: 3 })).toThrow(UnreadableVersionError);
    });

    it('serves partial documents as stored when the projection leaves _v out', async () => {
      const id = await insertRaw({ ...customerDoc(13), _v: 3 });
      const partial = await Customer.findById(id, { email: 1 });
      expect(partial?.get('email')).toBe('c13@example.com');
      present(partial).set('email', 'changed@example.com');
      await expect(present(partial).save()).rejects.toThrow('it was loaded without _v, so its stored version is unknown');
      await expect(Customer.findById(id, { email: 1, _v: 1 }).exec()).rejects.toBeInstanceOf(UnreadableVersionError);
    });

    it('fails loudly on a document whose _v is not a version, and when up() cannot read it', async () => {
      const badVersion = await insertRaw({ ...customerDoc(5), _v: 'two' });
      await expect(Customer.findById(badVersion).exec()).rejects.toThrow('has _v "two", which is not a version');
      const noNames = await insertRaw({ email: 'x@example.com' });
      await expect(Customer.findById(noNames).exec()).rejects.toThrow(/is at v1 and customers.full-name up\(\) threw: firstName is missing/);
    });
  });

  describe('writes', () => {
    it('stamps new documents with the write version and revision 1, through create and insertMany', async () => {
      const created = await Customer.create({ firstName: 'Ada', lastName: 'L', fullName: 'Ada L' });
      writes = 1;
      const [inserted] = await Customer.insertMany([{ firstName: 'Bob', lastName: 'M' }]);
      expect(await stored(created._id)).toMatchObject({ _v: 2, _rev: 1 });
      expect(await stored(inserted._id)).toMatchObject({ _v: 1, _rev: 1 });
    });

    it('bumps _rev on every save, and a save at v2 of an upcast v1 document persists the upcast fields', async () => {
      const id = await insertRaw(customerDoc(6));
      const doc = present(await Customer.findById(id));
      doc.set('email', 'new@example.com');
      await doc.save();
      expect(await stored(id)).toEqual({ _id: id, ...customerDoc(6), email: 'new@example.com', fullName: 'First6 Last6', _v: 2, _rev: 1 });
      doc.set('email', 'newer@example.com');
      await doc.save();
      expect(await stored(id)).toMatchObject({ email: 'newer@example.com', _rev: 2, _v: 2 });
    });

    it('derives the new fields again at save time from old fields changed in memory, unless the application set them', async () => {
      const id = await insertRaw(customerDoc(14));
      const doc = present(await Customer.findById(id));
      doc.set('firstName', 'Changed');
      await doc.save();
      expect(await stored(id)).toMatchObject({ firstName: 'Changed', fullName: 'Changed Last14', _v: 2 });
      const other = present(await Customer.findById(await insertRaw(customerDoc(15))));
      other.set({ firstName: 'Set', fullName: 'Set By App' });
      await other.save();
      expect(await stored(other._id)).toMatchObject({ firstName: 'Set', fullName: 'Set By App', _v: 2 });
    });

    it('saves an upcast document at v1 without the upcast fields while the build still writes v1', async () => {
      writes = 1;
      const id = await insertRaw(customerDoc(7));
      const doc = present(await Customer.findById(id));
      doc.set('email', 'v1@example.com');
      await doc.save();
      const after = await stored(id);
      expect(after).toMatchObject({ email: 'v1@example.com', _v: 1, _rev: 1 });
      expect(after).not.toHaveProperty('fullName');
    });

    it('stamps a query update that writes the whole new shape with the write version and $inc-s _rev', async () => {
      const id = await insertRaw(customerDoc(8));
      await Customer.updateOne({ _id: id }, { $set: { firstName: 'Eve', lastName: 'N', fullName: 'Eve N' } });
      expect(await stored(id)).toMatchObject({ fullName: 'Eve N', _v: 2, _rev: 1 });
      await Customer.findOneAndUpdate({ _id: id }, { firstName: 'Eva', lastName: 'N', fullName: 'Eva N' });
      expect(await stored(id)).toMatchObject({ firstName: 'Eva', _v: 2, _rev: 2 });
    });

    it('never labels an old document as new through a partial update, and lowers the version when the build writes v1', async () => {
      const v1 = await insertRaw(customerDoc(9));
      await Customer.updateOne({ _id: v1 }, { $set: { email: 'partial@example.com' } });
      const partial = await stored(v1);
      expect(partial).toMatchObject({ email: 'partial@example.com', _rev: 1 });
      expect(partial).not.toHaveProperty('_v');

      const v2 = await insertRaw({ ...customerDoc(10), fullName: 'First10 Last10', _v: 2, _rev: 3 });
      writes = 1;
      await Customer.updateMany({ _id: { $in: [v1, v2] } }, { $set: { firstName: 'Renamed' } });
      expect(await stored(v2)).toMatchObject({ firstName: 'Renamed', _v: 1, _rev: 4 });
      expect(await stored(v1)).toMatchObject({ firstName: 'Renamed', _v: 1, _rev: 2 });
    });

    it('stamps upserts and bulkWrite operations', async () => {
      const upserted = new mongoose.Types.ObjectId();
      await Customer.updateOne({ _id: upserted }, { $set: { email: 'up@example.com' } }, { upsert: true });
      expect(await stored(upserted)).toMatchObject({ email: 'up@example.com', _v: 2, _rev: 1 });
      const inserted = new mongoose.Types.ObjectId();
      await Customer.bulkWrite([
        { insertOne: { document: { _id: inserted, firstName: 'Bulk', lastName: 'B', fullName: 'Bulk B' } } },
        { updateOne: { filter: { _id: upserted }, update: { $set: { firstName: 'X', lastName: 'Y', fullName: 'X Y' } } } },
      ]);
      expect(await stored(inserted)).toMatchObject({ _v: 2, _rev: 1 });
      expect(await stored(upserted)).toMatchObject({ fullName: 'X Y', _v: 2, _rev: 2 });
    });

    it('refuses to write a version the build cannot read, and writes nothing', async () => {
      const id = await insertRaw(customerDoc(11));
      writes = 3;
      await expect(Customer.create({ firstName: 'No', lastName: 'Pe' })).rejects.toBeInstanceOf(UnwritableVersionError);
      await expect(Customer.updateOne({ _id: id }, { $set: { email: 'never@example.com' } })).rejects.toThrow(
        `refusing to write ${COLLECTION} at v3: this build reads only v1..v2`,
      );
      writes = 0;
      await expect(Customer.insertMany([{ firstName: 'Zero', lastName: 'V' }])).rejects.toBeInstanceOf(UnwritableVersionError);
      expect(await raw().countDocuments({})).toBe(1);
      expect(await stored(id)).toEqual({ _id: id, ...customerDoc(11) });
    });

    it('refuses updates that write _v or _rev themselves', async () => {
      const id = await insertRaw(customerDoc(12));
      await expect(Customer.updateOne({ _id: id }, { $set: { _v: 2 } })).rejects.toThrow('versionedPlugin owns _v');
      await expect(Customer.updateOne({ _id: id }, { $inc: { _rev: 5 } })).rejects.toThrow('versionedPlugin owns _rev');
    });
  });
});
