import type { NestExpressApplication } from '@nestjs/platform-express';
import { PASSWORD_HASH_MIGRATION, USERS_COLLECTION, authMigrations, parsePasswordHash, passwordHashMigration, verifyPassword } from '@zdm/auth-domain';
import { integrationServices } from '@zdm/dev-services';
import { ControlStore, Doc, GateRefusedError, Migrator, Phase, flagsForPhase } from '@zdm/migrations-core';
import type { UnleashFlagAdmin } from '@zdm/migrations-nest';
import { flagsSeen, followingUnleash, operatorFor, pendingFlags, zdmProcess } from '@zdm/migrations-nest/testing';
import path from 'node:path';
import mongoose, { Connection, mongo } from 'mongoose';
import request from 'supertest';
import { authHubEnv, startAuthHubApp } from '../testing/auth-hub-app.fixture';
import { PASSWORD_RESET_REQUIRED } from './credentials.service';

jest.setTimeout(240_000);

// FerretDB, Redis and Unleash from MONGO_URL / REDIS_URL / UNLEASH_* (npm test), else local servers.
const services = integrationServices(['mongo', 'redis', 'unleash']);
const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const who = { actor: 'password-hash.phases.int-spec', reason: 'phase test' };
const id = PASSWORD_HASH_MIGRATION;
const PASSWORD = 'correct horse battery';
/** Cheap costs keep the suite quick; v2's is 16 times v1's (production: 4 times, 2^15 -> 2^17), so a timing difference shows. */
const V1_LOG_N = 10;
const V2_LOG_N = 14;
/** Rounds of the failed-login timing comparison. */
const ROUNDS = 25;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

describe('auth.password-hash: v1 hashes upgraded at login, the rest expired by an operator, on FerretDB with Unleash', () => {
  let app: NestExpressApplication;
  let http: ReturnType<typeof request>;
  let db: Connection;
  let migrator: Migrator;
  let store: ControlStore;
  let admin: UnleashFlagAdmin;
  const raw = (email: string) => db.collection<Doc>(USERS_COLLECTION).findOne({ email });
  const logNOf = (stored: Doc | null) => parsePasswordHash(String(stored?.['passwordHash'])).params.logN;
  const login = (email: string, password = PASSWORD) => http.post('/sessions').send({ email, password });

  const seen = (flags: Record<string, boolean>) => flagsSeen(store, flags);
  const advance = async (to: Phase) => {
    expect(await migrator.advance(id, who)).toBe(to);
    await seen(flagsForPhase(passwordHashMigration, to));
  };
  /** `zdm --config apps/auth-hub/zdm.config.ts --json --actor ops@example <args>`, as its own process. */
  const zdm = (...args: string[]) => zdmProcess(ROOT, 'apps/auth-hub/zdm.config.ts', { MONGO_URL: services.mongo.url, MONGO_DB: services.mongoDbName, REDIS_URL: services.redis.url, REDIS_PREFIX: services.redisPrefix })('--actor', 'ops@example', ...args);

  beforeAll(async () => {
    db = await mongoose.createConnection(services.mongo.url, { dbName: services.mongoDbName }).asPromise();
    ({ migrator, store, admin } = await operatorFor(db.db as mongo.Db, services.unleash, authMigrations));
    app = await startAuthHubApp(
      followingUnleash(services.unleash, {
        ...authHubEnv(services, { SCRYPT_LOG_N: String(V1_LOG_N), SCRYPT_V2_LOG_N: String(V2_LOG_N), LOGIN_ATTEMPTS_PER_ACCOUNT: '100000', LOGIN_ATTEMPTS_PER_IP: '100000' }),
        INSTANCE_ID: 'auth-hub-green-1',
        BUILD: 'green',
      }),
    );
    http = request(app.getHttpServer());
    await seen(pendingFlags(authMigrations));
  });
  afterAll(async () => {
    // Suites share one Unleash: leave the flags as the other suites expect them.
    for (const [flag, enabled] of Object.entries(pendingFlags(authMigrations))) await admin?.set(flag, enabled);
    await app?.close();
    await db?.close();
  });

  it('stores users at v1 with v1 parameters while the migration is pending', async () => {
    for (const name of ['alice', 'bob', 'carol', 'dave']) await http.post('/users').send({ email: `${name}@example.com`, password: PASSWORD }).expect(201);
    const alice = await raw('alice@example.com');
    expect(alice?.['_v']).toBe(1);
    expect(logNOf(alice)).toBe(V1_LOG_N);
    expect(alice).not.toHaveProperty('passwordHashedAt');
    // A login at v1 leaves the hash alone.
    await login('alice@example.com').expect(201);
    expect((await raw('alice@example.com'))?.['passwordHash']).toBe(alice?.['passwordHash']);
  });

  it('plans no backfill: zdm plan says lazy-only and counts the 4 users below v2', async () => {
    const plan = await zdm('plan', id);
    expect(plan.code).toBe(0);
    expect((plan.result['plans'] as Doc[])[0]).toMatchObject({ id, strategy: "lazy-only (no backfill: upgraded at the user's next successful login)", affected: 4, estimatedBackfillSec: 0 });
  });

  it('upgrades a v1 hash at the next successful login, once the build writes v2, and keeps the password working', async () => {
    await advance('expand');
    await advance('backfill');
    const before = await raw('alice@example.com');
    await login('alice@example.com', 'wrong password!').expect(401);
    expect((await raw('alice@example.com'))?.['passwordHash']).toBe(before?.['passwordHash']);
    await login('alice@example.com').expect(201);
    const after = await raw('alice@example.com');
    expect(after).toMatchObject({ _v: 2, passwordHashedAt: expect.any(Date) });
    expect(logNOf(after)).toBe(V2_LOG_N);
    expect(await verifyPassword(PASSWORD, String(after?.['passwordHash']))).toBe(true);
    await login('alice@example.com').expect(201);
    expect((await raw('alice@example.com'))?.['passwordHash']).toBe(after?.['passwordHash']);
  });

  it('lets two concurrent logins of one v1 user both succeed, with one upgrade written and a hash that verifies', async () => {
    const [a, b] = await Promise.all([login('bob@example.com'), login('bob@example.com')]);
    expect([a.status, b.status]).toEqual([201, 201]);
    const bob = await raw('bob@example.com');
    expect(bob).toMatchObject({ _v: 2, _rev: 2 });
    expect(logNOf(bob)).toBe(V2_LOG_N);
    expect(await verifyPassword(PASSWORD, String(bob?.['passwordHash']))).toBe(true);
  });

  it('registers new users at v2 with v2 parameters', async () => {
    await http.post('/users').send({ email: 'erin@example.com', password: PASSWORD }).expect(201);
    const erin = await raw('erin@example.com');
    expect(erin).toMatchObject({ _v: 2, passwordHashedAt: expect.any(Date) });
    expect(logNOf(erin)).toBe(V2_LOG_N);
  });

  it(`answers a failed login in about the same time for an unknown address, a v1 user and a v2 user while both costs are live (${ROUNDS} rounds)`, async () => {
    const time = async (email: string) => {
      const start = process.hrtime.bigint();
      await login(email, 'wrong password!').expect(401);
      return Number(process.hrtime.bigint() - start) / 1e6;
    };
    const classes = { unknown: 'nobody@example.com', v1: 'carol@example.com', v2: 'alice@example.com' };
    const times: Record<string, number[]> = { unknown: [], v1: [], v2: [] };
    for (let round = 0; round < ROUNDS; round++) {
      // Rotate the order, so that none always meets a warmer cache.
      const order = Object.keys(classes).map((_, i, all) => all[(i + round) % all.length]) as (keyof typeof classes)[];
      for (const name of order) times[name].push(await time(classes[name]));
    }
    const medians = Object.fromEntries(Object.entries(times).map(([name, list]) => [name, median(list)]));
    console.info(`[auth-hub timing] failed logins at scrypt 2^${V1_LOG_N} (v1) and 2^${V2_LOG_N} (v2), ${ROUNDS} rounds: median ${Object.entries(medians).map(([n, m]) => `${n} ${m.toFixed(1)} ms`).join(', ')}`);
    // Without the padding a v1 user's failure costs 1/16 of the others' KDF work (0.27 of the unknown address's time, measured).
    for (const name of ['v1', 'v2']) {
      expect(medians[name] / medians['unknown']).toBeGreaterThan(0.67);
      expect(medians[name] / medians['unknown']).toBeLessThan(1.5);
    }
  });

  it('never leaves backfill while v1 hashes remain: the gate names them and zdm status counts them', async () => {
    const err = await migrator.advance(id, who).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GateRefusedError);
    expect((err as GateRefusedError).failing.map((g) => `${g.gate}: ${g.detail}`)).toEqual([
      "no-old-version-left: 2 document(s) still below v2, each upgraded at the user's next successful login; `zdm lazy expire auth.password-hash --before <deadline>` expires the rest",
    ]);
    const status = await zdm('status', id);
    expect(status.code).toBe(0);
    expect(status.result).toMatchObject({ phase: 'backfill', lazy: { remaining: 2 }, counts: { belowTarget: 2 } });
    const advanced = await zdm('advance', id);
    expect(advanced.code).toBe(3);
    expect(await migrator.phaseMachine.state(id)).toMatchObject({ phase: 'backfill' });
  });

  it('expires nobody before the deadline, counts in a dry run, then marks the 2 users must-reset, audited, keeping their documents', async () => {
    const ahead = new Date(Date.now() + 86_400_000).toISOString();
    expect((await zdm('lazy', 'expire', id, '--before', ahead, '--reason', 'OPS-12')).code).toBe(3);
    const past = new Date(Date.now() - 1000).toISOString();
    const dry = await zdm('lazy', 'expire', id, '--before', past, '--dry-run');
    expect(dry).toMatchObject({ code: 0, result: { dryRun: true, expired: 2, remaining: 2 } });
    expect((await raw('carol@example.com'))?.['_v']).toBe(1);

    const run = await zdm('lazy', 'expire', id, '--before', past, '--reason', 'OPS-12: password deadline passed');
    expect(run).toMatchObject({ code: 0, result: { dryRun: false, expired: 2, remaining: 0, refused: [] } });
    const carol = await raw('carol@example.com');
    expect(carol).toMatchObject({ _v: 2, email: 'carol@example.com', passwordHashedAt: null, passwordResetRequired: true });
    expect(carol).not.toHaveProperty('passwordHash');
    expect(await db.collection(USERS_COLLECTION).countDocuments({})).toBe(5);
    const [entry] = (await store.audit.list(id)).filter((e) => e.action === 'lazy-expire');
    expect(entry).toMatchObject({ actor: 'ops@example', reason: 'OPS-12: password deadline passed', details: { before: past, expired: 2, remaining: 0 } });
    expect([...(entry.details?.['ids'] as string[])].sort()).toEqual([String(carol?.['_id']), String((await raw('dave@example.com'))?.['_id'])].sort());
  });

  it('answers the login of an expired user with 403 telling them to reset the password, whatever the password', async () => {
    for (const password of [PASSWORD, 'wrong password!']) {
      const res = await login('dave@example.com', password).expect(403);
      expect(res.body.message).toBe(PASSWORD_RESET_REQUIRED);
    }
    await login('nobody@example.com').expect(401);
  });

  it('completes once no v1 hash is left: verify finds 0 mismatches over the upgraded, new and expired users', async () => {
    await advance('verify');
    const { report } = await migrator.verify(id);
    expect(report).toMatchObject({ checked: 5, mismatches: 0 });
    expect(await migrator.advance(id, who)).toBe('complete');
    await login('alice@example.com').expect(201);
  });

  it('rolls back from complete with down(): every user back at v1, upgraded users still log in with their stronger hash, expired ones still must reset', async () => {
    const result = await migrator.rollback(id, who);
    expect(result?.status).toBe('done');
    await seen(pendingFlags(authMigrations));
    expect(await db.collection(USERS_COLLECTION).countDocuments({ _v: { $ne: 1 } })).toBe(0);
    const alice = await raw('alice@example.com');
    expect(alice).not.toHaveProperty('passwordHashedAt');
    expect(logNOf(alice)).toBe(V2_LOG_N);
    await login('alice@example.com').expect(201);
    expect((await raw('alice@example.com'))?.['passwordHash']).toBe(alice?.['passwordHash']);
    await login('dave@example.com').expect(403);
  });
});
