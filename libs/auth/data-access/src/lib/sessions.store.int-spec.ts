import { startSession } from '@zdm/auth-domain';
import { integrationServices } from '@zdm/dev-services';
import Redis from 'ioredis';
import { MalformedSessionError, SessionsStore } from './sessions.store';

jest.setTimeout(30_000);

const services = integrationServices(['redis']);

describe('SessionsStore (v1: session:<sid> as a JSON string) on redis-server', () => {
  let redis: Redis;
  let store: SessionsStore;

  beforeAll(() => {
    redis = new Redis(services.redis.url);
    store = new SessionsStore(redis, { prefix: services.redisPrefix, scanCount: 7 });
  });
  afterAll(() => redis?.quit());

  it('stores a session as a JSON string under session:<sid> with its expiry, and never overwrites one', async () => {
    const record = startSession('u1', 'h0', 1_000);
    expect(await store.create('sid-a', record, 600)).toBe(true);
    expect(await redis.type(`${services.redisPrefix}session:sid-a`)).toBe('string');
    expect(JSON.parse((await redis.get(`${services.redisPrefix}session:sid-a`)) ?? '')).toEqual(record);
    expect(await store.ttl('sid-a')).toBeGreaterThan(595);
    expect(await store.create('sid-a', startSession('u2', 'h', 0), 600)).toBe(false);
    expect((await store.get('sid-a'))?.record.userId).toBe('u1');
  });

  it('replaces a session only if it is unchanged since it was read: of two racing rotations, one wins', async () => {
    await store.create('sid-b', startSession('u1', 'h0', 0), 60);
    const read = await store.get('sid-b');
    if (!read) throw new Error('missing');
    const next = (hash: string) => ({ ...read.record, refreshHash: hash, usedHashes: ['h0'], generation: 1 });
    const results = await Promise.all([store.replace('sid-b', read, next('h1'), 600), store.replace('sid-b', read, next('h2'), 600)]);
    expect(results.sort()).toEqual([false, true]);
    expect(['h1', 'h2']).toContain((await store.get('sid-b'))?.record.refreshHash);
    expect(await store.ttl('sid-b')).toBeGreaterThan(595);
    await store.revoke('sid-b');
    expect(await store.replace('sid-b', read, next('h3'), 600)).toBe(false);
    expect(await store.get('sid-b')).toBeNull();
  });

  it("logs one user out everywhere and leaves other users' sessions alone", async () => {
    for (let i = 0; i < 30; i++) await store.create(`many-${i}`, startSession(i % 3 === 0 ? 'victim' : 'other', `h${i}`, 0), 600);
    expect(await store.revokeUser('victim')).toBe(10);
    expect(await store.get('many-0')).toBeNull();
    expect((await store.get('many-1'))?.record.userId).toBe('other');
    expect(await store.revokeUser('victim')).toBe(0);
  });

  it('reports a malformed stored session with its key and the reason instead of trusting it', async () => {
    await redis.set(`${services.redisPrefix}session:bad`, '{"userId":1}');
    await expect(store.get('bad')).rejects.toEqual(new MalformedSessionError(`${services.redisPrefix}session:bad`, 'userId must be a string'));
    await redis.set(`${services.redisPrefix}session:bad`, 'nope');
    await expect(store.get('bad')).rejects.toThrow(/session:bad does not hold a session record: not JSON/);
  });
});
