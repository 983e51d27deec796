import type { NestExpressApplication } from '@nestjs/platform-express';
import { SESSION_KEYSPACE_MIGRATION, authRegistry, sessionKeys } from '@zdm/auth-domain';
import { integrationServices } from '@zdm/dev-services';
import { ControlStore, Migrator, Phase, flagsForPhase, routeByTargetKind } from '@zdm/migrations-core';
import { createMongoBackend } from '@zdm/migrations-mongo';
import { UnleashFlagAdmin } from '@zdm/migrations-nest';
import { flagsSeen, followingUnleash, pendingFlags } from '@zdm/migrations-nest/testing';
import { createRedisBackend } from '@zdm/migrations-redis';
import Redis from 'ioredis';
import mongoose, { Connection, mongo } from 'mongoose';
import request from 'supertest';
import { authHubEnv, startAuthHubApp } from '../testing/auth-hub-app.fixture';

jest.setTimeout(240_000);

// FerretDB, Redis and Unleash from MONGO_URL / REDIS_URL / UNLEASH_* (npm test), else local servers.
const services = integrationServices(['mongo', 'redis', 'unleash']);
const who = { actor: 'session-keyspace.phases.int-spec', reason: 'phase test' };
const id = SESSION_KEYSPACE_MIGRATION;
const PASSWORD = 'correct horse battery';

interface Pair {
  accessToken: string;
  refreshToken: string;
}

/**
 * auth.session-keyspace walked phase by phase with the hub in-process following Unleash: sessions
 * opened in each phase keep refreshing through every later one, a replayed token revokes its family
 * in both shapes, TTLs survive the backfill, and after contract only v2 is left.
 */
describe('auth.session-keyspace through its phases, the hub following Unleash (FerretDB, redis-server)', () => {
  let app: NestExpressApplication;
  let http: ReturnType<typeof request>;
  let db: Connection;
  let redis: Redis;
  let migrator: Migrator;
  let store: ControlStore;
  let admin: UnleashFlagAdmin;
  let keys: ReturnType<typeof sessionKeys>;
  const registry = () => authRegistry({ redisPrefix: services.redisPrefix });
  const def = () => registry().get(id);
  const sessions = new Map<string, Pair>();
  const sidOf = (pair: Pair) => pair.refreshToken.split('.')[0];

  const advance = async (to: Phase) => {
    expect(await migrator.advance(id, who)).toBe(to);
    await flagsSeen(store, flagsForPhase(def(), to));
  };
  const login = async (name: string) => {
    const res = await http.post('/sessions').send({ email: 'keys@example.com', password: PASSWORD }).expect(201);
    sessions.set(name, res.body as Pair);
    return res.body as Pair;
  };
  const refresh = async (name: string) => {
    const res = await http.post('/sessions/refresh').send({ refreshToken: sessions.get(name)?.refreshToken });
    if (res.status === 200) sessions.set(name, res.body as Pair);
    return res.status;
  };
  const shapes = async (name: string) => {
    const sid = sidOf(sessions.get(name) as Pair);
    const userId = (await redis.get(keys.owner(sid))) ?? '-';
    return { v1: await redis.type(keys.v1(sid)), v2: userId === '-' ? 'none' : await redis.type(keys.v2(userId, sid)) };
  };

  beforeAll(async () => {
    keys = sessionKeys(services.redisPrefix);
    db = await mongoose.createConnection(services.mongo.url, { dbName: services.mongoDbName }).asPromise();
    redis = new Redis(services.redis.url);
    admin = new UnleashFlagAdmin({ url: services.unleash.url, token: services.unleash.adminToken });
    for (const [flag, enabled] of Object.entries(pendingFlags([def()]))) await admin.set(flag, enabled);
    // As the hub's zdm config builds it: users and the control store in MongoDB, sessions in Redis.
    const mongoBackend = createMongoBackend({ db: db.db as mongo.Db, registry: registry() });
    store = mongoBackend.store;
    const backend = routeByTargetKind(store, { mongo: mongoBackend, redis: createRedisBackend({ redis, store, registry: registry() }) });
    migrator = new Migrator({ registry: registry(), backend, flags: admin, throttle: { initialBatchSize: 50, minBatchSize: 50, maxBatchSize: 50 } });
    app = await startAuthHubApp(followingUnleash(services.unleash, { ...authHubEnv(services), INSTANCE_ID: 'auth-hub-green-1', BUILD: 'green' }));
    http = request(app.getHttpServer());
    await flagsSeen(store, pendingFlags([def()]));
    await http.post('/users').send({ email: 'keys@example.com', password: PASSWORD }).expect(201);
  });
  afterAll(async () => {
    // Suites share one Unleash: leave the flags as the other suites expect them.
    for (const [flag, enabled] of Object.entries(pendingFlags([def()]))) await admin?.set(flag, enabled);
    await app?.close();
    await redis?.quit();
    await db?.close();
  });

  it('keeps v1 while pending and in expand, where the hub reads v1..v2 and writes v1', async () => {
    await login('pending');
    await login('untouched');
    expect(await shapes('pending')).toEqual({ v1: 'string', v2: 'none' });
    await advance('expand');
    await login('expand');
    expect(await refresh('pending')).toBe(200);
    expect(await shapes('expand')).toEqual({ v1: 'string', v2: 'none' });
    const [beat] = await store.heartbeats.live();
    expect(beat.schemas['sessions']).toEqual({ readMin: 1, readMax: 2, writes: 1 });
  });

  it('writes both shapes from dual-write on, and the backfill moves the rest with their TTLs', async () => {
    await advance('dual-write');
    await login('dual');
    expect(await shapes('dual')).toEqual({ v1: 'string', v2: 'hash' });
    expect(await refresh('expand')).toBe(200);
    expect(await shapes('expand')).toEqual({ v1: 'string', v2: 'hash' });
    await advance('backfill');
    const sid = sidOf(sessions.get('untouched') as Pair);
    const before = Date.now() + (await redis.pttl(keys.v1(sid)));
    const result = await migrator.run(id, 'backfill');
    expect(result.checkpoint).toMatchObject({ quarantined: 0, done: true });
    for (const name of sessions.keys()) expect(await shapes(name)).toEqual({ v1: 'string', v2: 'hash' });
    const userId = (await redis.get(keys.owner(sid))) as string;
    expect(Math.abs(Date.now() + (await redis.pttl(keys.v2(userId, sid))) - before)).toBeLessThanOrEqual(1_000);
    await advance('verify');
    expect((await migrator.verify(id)).report).toMatchObject({ checked: sessions.size, mismatches: 0 });
  });

  it('reads v2 from switch-reads on: every session refreshes, and a replayed token revokes its family in both shapes', async () => {
    await advance('switch-reads');
    const replay = sessions.get('dual')?.refreshToken as string;
    for (const name of sessions.keys()) expect(await refresh(name)).toBe(200);
    expect((await http.post('/sessions/refresh').send({ refreshToken: replay })).status).toBe(401);
    expect(await shapes('dual')).toEqual({ v1: 'none', v2: 'none' });
    expect(await refresh('dual')).toBe(401);
    sessions.delete('dual');
  });

  it('contracts to v2 alone, where sessions still refresh and logging out everywhere ends them all', async () => {
    await advance('contract');
    await login('contract');
    expect(await shapes('contract')).toEqual({ v1: 'none', v2: 'hash' });
    expect((await migrator.run(id, 'contract')).checkpoint).toMatchObject({ quarantined: 0 });
    for (const name of sessions.keys()) {
      expect(await shapes(name)).toEqual({ v1: 'none', v2: 'hash' });
      expect(await refresh(name)).toBe(200);
    }
    await advance('complete');
    const everywhere = await http.delete('/sessions').set('authorization', `Bearer ${sessions.get('contract')?.accessToken}`).expect(200);
    expect(everywhere.body).toEqual({ revoked: sessions.size });
    for (const name of sessions.keys()) expect(await refresh(name)).toBe(401);
  });
});
