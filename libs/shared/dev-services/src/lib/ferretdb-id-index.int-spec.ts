import { mongo } from 'mongoose';
import { DatabaseSync } from 'node:sqlite';
import path from 'node:path';
import { idIndexName, indexFerretDbIds } from './ferretdb-id-index';
import { startMongo } from './mongo';
import type { MongoService } from './types';

jest.setTimeout(60_000);

// A local FerretDB of its own (never MONGO_URL): the index lives in its database files.
describe('the _id index of a local FerretDB (SQLite)', () => {
  let server: MongoService;
  let client: mongo.MongoClient;
  const saved = process.env.MONGO_URL;

  beforeAll(async () => {
    delete process.env.MONGO_URL;
    server = await startMongo({ sources: ['local'] });
    client = await new mongo.MongoClient(server.url).connect();
  });
  afterAll(async () => {
    await client?.close();
    await server?.stop();
    if (saved !== undefined) process.env.MONGO_URL = saved;
  });

  const tableOf = (dbName: string, collection: string): string => {
    const sqlite = new DatabaseSync(path.join(server.dir as string, `${dbName}.sqlite`));
    try {
      return String(sqlite.prepare('SELECT table_name FROM _ferretdb_collections WHERE name = ?').get(collection)?.['table_name']);
    } finally {
      sqlite.close();
    }
  };
  /** SQLite's plan for the statement FerretDB sends for `find({_id})`. */
  const planOfIdLookup = (dbName: string, table: string): string => {
    const sqlite = new DatabaseSync(path.join(server.dir as string, `${dbName}.sqlite`));
    try {
      return JSON.stringify(sqlite.prepare(`EXPLAIN QUERY PLAN SELECT _ferretdb_sjson FROM "${table}" WHERE _ferretdb_sjson->'$._id' = ?`).all('x'));
    } finally {
      sqlite.close();
    }
  };

  it('indexes a collection created after the server started, without being asked, and the data stay as they were', async () => {
    const db = client.db('idindex');
    const docs = Array.from({ length: 50 }, (_, i) => ({ _id: new mongo.ObjectId(), n: i }));
    await db.collection('customers').insertMany(docs);
    const table = tableOf('idindex', 'customers');
    for (let i = 0; i < 40 && !planOfIdLookup('idindex', table).includes(idIndexName(table)); i++) await new Promise((r) => setTimeout(r, 100));
    expect(planOfIdLookup('idindex', table)).toContain(`USING INDEX ${idIndexName(table)}`);
    expect(await db.collection('customers').findOne({ _id: docs[49]._id })).toEqual(docs[49]);
    await db.collection('customers').updateOne({ _id: docs[10]._id }, { $set: { n: -1 } });
    expect(await db.collection('customers').find({ n: -1 }).toArray()).toEqual([{ _id: docs[10]._id, n: -1 }]);
  });

  it('does nothing on a second pass, and a dropped and re-created collection gets its index again', async () => {
    const db = client.db('idindex2');
    await db.collection('orders').insertOne({ _id: new mongo.ObjectId() });
    indexFerretDbIds(server.dir as string);
    expect(indexFerretDbIds(server.dir as string).created).toEqual([]);
    await db.collection('orders').drop();
    await db.collection('orders').insertOne({ _id: new mongo.ObjectId() });
    const table = tableOf('idindex2', 'orders');
    for (let i = 0; i < 40 && !planOfIdLookup('idindex2', table).includes(idIndexName(table)); i++) await new Promise((r) => setTimeout(r, 100));
    expect(planOfIdLookup('idindex2', table)).toContain(`USING INDEX ${idIndexName(table)}`);
  });

  it('reports a directory it cannot read instead of throwing', () => {
    expect(indexFerretDbIds('/nonexistent/zdm').errors[0]).toMatch(/nonexistent/);
  });
});
