import { integrationServices } from '@zdm/dev-services';
import { waitFor } from '@zdm/migrations-core/testing';
import { createMongoControlStore } from '@zdm/migrations-mongo';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import mongoose, { Connection } from 'mongoose';
import request from 'supertest';
import { startOrdersApp } from './testing/orders-app.fixture';
import config, { connect } from '../zdm.config';

jest.setTimeout(60_000);

const services = integrationServices(['mongo']);
/** These instances keep the flags' safe defaults, whatever the Unleash that npm test shares says. */
const WITHOUT_UNLEASH = { UNLEASH_URL: undefined, UNLEASH_CLIENT_TOKEN: undefined };
const ROOT = path.resolve(__dirname, '..', '..', '..');

/** Runs `zdm --config apps/orders/zdm.config.ts --json <args>` and returns its result line. */
async function zdm(...args: string[]) {
  const { stdout } = await promisify(execFile)(
    path.join(ROOT, 'node_modules', '.bin', 'node'),
    [path.join(ROOT, 'tools', 'scripts', 'run-ts.mjs'), 'apps/zdm/src/main.ts', '--config', 'apps/orders/zdm.config.ts', '--json', ...args],
    { cwd: ROOT, env: { PATH: process.env.PATH, MONGO_URL: services.mongo.url, MONGO_DB: services.mongoDbName } },
  );
  return JSON.parse(stdout.trim().split('\n').pop() as string);
}

describe('the orders service to the zdm CLI', () => {
  let db: Connection;
  beforeAll(async () => (db = await mongoose.createConnection(services.mongo.url, { dbName: services.mongoDbName }).asPromise()));
  afterAll(() => db?.close());

  it('is the orders service, and names the missing variable instead of connecting somewhere by default', async () => {
    expect(config.service).toBe('orders');
    await expect(connect({})).rejects.toThrow('MONGO_URL is required by the orders zdm config');
    await expect(connect({ MONGO_URL: services.mongo.url, UNLEASH_URL: 'http://127.0.0.1:1' })).rejects.toThrow('UNLEASH_ADMIN_TOKEN is required by the orders zdm config');
  });

  it('beats with its service, build, read range and write version; zdm status lists the live instance; a graceful shutdown removes it', async () => {
    const store = createMongoControlStore(db.db as NonNullable<Connection['db']>);
    const app = await startOrdersApp({ ...WITHOUT_UNLEASH, MONGO_URL: services.mongo.url, MONGO_DB: services.mongoDbName, CUSTOMERS_URL: 'http://127.0.0.1:1', HEARTBEAT_INTERVAL_MS: '200', BUILD: 'orders-test', INSTANCE_ID: 'orders-hb-1' });
    let closed = false;
    try {
      const beat = await waitFor('a heartbeat', async () => (await store.heartbeats.live()).find((hb) => hb.instanceId === 'orders-hb-1'));
      expect(beat).toMatchObject({ service: 'orders', build: 'orders-test', schemas: { orders: { readMin: 1, readMax: 3, writes: 1 } } });
      await request(app.getHttpServer()).get('/health/ready').expect(200);
      const status = await zdm('status');
      expect(status).toMatchObject({ command: 'status', ok: true, service: 'orders', instances: [expect.objectContaining({ instanceId: 'orders-hb-1', build: 'orders-test' })] });
      await app.close();
      closed = true;
      expect((await store.heartbeats.live()).map((hb) => hb.instanceId)).not.toContain('orders-hb-1');
    } finally {
      if (!closed) await app.close();
    }
  });
});
