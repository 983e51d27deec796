import mongoose from 'mongoose';
import { describeIntegration, mongoServerName } from '../index';


describeIntegration('MongoDB-compatible server (smoke)', ['mongo'], (services) => {
  let conn: mongoose.Connection;

  beforeAll(async () => {
    conn = await mongoose.createConnection(services.mongo.url, { dbName: services.mongoDbName }).asPromise();
    const info = await conn.getClient().db().admin().command({ buildInfo: 1 });
    const server = `${mongoServerName(info)} (MongoDB ${info.version} wire)`;
    console.info(`[smoke] mongo: ${server} via ${services.mongo.source} (${services.mongo.description})`);
  });

  afterAll(async () => {
    try {
      await conn?.dropDatabase();
    } finally {
      await conn?.close();
    }
  });

  it('enforces a unique index and round-trips a document (duplicate key = 11000)', async () => {
    const Account = conn.model('Account', new mongoose.Schema({ email: { type: String, required: true, unique: true }, plan: String }));
    await Account.init(); // builds the unique index
    const indexes = await Account.collection.indexes();
    expect(indexes.find((i) => i.key.email === 1)?.unique).toBe(true);

    const created = await Account.create({ email: 'a@example.com', plan: 'free' });
    const found = await Account.findById(created._id).lean();
    expect(found).toMatchObject({ email: 'a@example.com', plan: 'free' });

    await expect(Account.create({ email: 'a@example.com', plan: 'pro' })).rejects.toMatchObject({ code: 11000 });
    expect(await Account.countDocuments()).toBe(1);
  });
});
