import { integrationServices, materializeRelease, startRelease, stopRelease, type MaterializedRelease, type ReleaseProcess } from '@zdm/dev-services';
import mongoose, { Connection } from 'mongoose';
import { authHubEnv } from '../testing/auth-hub-app.fixture';

jest.setTimeout(240_000);

const services = integrationServices(['mongo', 'redis']);

describe('auth-hub v1 (blue), materialized from git', () => {
  let release: MaterializedRelease & { remove(): void };
  let blue: ReleaseProcess;
  let db: Connection;

  beforeAll(async () => {
    release = await materializeRelease('auth-hub', 'v1');
    blue = await startRelease(release, authHubEnv(services, { INSTANCE_ID: 'auth-hub-blue-1', HEARTBEAT_INTERVAL_MS: '200' }));
    db = await mongoose.createConnection(services.mongo.url, { dbName: services.mongoDbName }).asPromise();
  });
  afterAll(async () => {
    await stopRelease(blue);
    await db?.close();
    release?.remove();
  });

  it('is the recorded commit, as auth-hub-v1, and needs MONGO_URL and REDIS_URL', () => {
    expect(release).toMatchObject({ service: 'auth-hub', release: 'v1', build: 'auth-hub-v1', reads: [1, 1], requiredEnv: ['MONGO_URL', 'REDIS_URL'] });
  });

  it('registers, logs in and refreshes, stores the user at v1, reports both stores ready, and beats as build auth-hub-v1', async () => {
    const post = (p: string, body: unknown) => fetch(`${blue.url}${p}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const credentials = { email: 'blue@example.com', password: 'correct horse battery' };
    expect((await post('/users', credentials)).status).toBe(201);
    const login = await post('/sessions', credentials);
    expect(login.status).toBe(201);
    const { refreshToken } = (await login.json()) as { refreshToken: string };
    expect((await post('/sessions/refresh', { refreshToken })).status).toBe(200);
    expect(await db.collection('users').findOne({ email: 'blue@example.com' })).toMatchObject({ _v: 1, passwordHash: expect.stringMatching(/^\$scrypt\$/) });
    const ready = (await (await fetch(`${blue.url}/health/ready`)).json()) as { info: Record<string, unknown> };
    expect(Object.keys(ready.info)).toEqual(expect.arrayContaining(['mongo', 'redis']));
    const beat = await db.collection('zdm_heartbeats').findOne({ instanceId: 'auth-hub-blue-1' });
    expect(beat).toMatchObject({ service: 'auth-hub', build: 'auth-hub-v1' });
  });
});
