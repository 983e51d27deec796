import { decideRefresh, startSession, type SessionRecord } from '@zdm/auth-domain';
import { integrationServices } from '@zdm/dev-services';
import Redis from 'ioredis';
import { MalformedSessionError, SessionShapes, SessionsStore, V1_SHAPES } from './sessions.store';

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

/** The shapes each phase of auth.session-keyspace writes and reads (what its flags say). */
const PHASES: Record<string, SessionShapes> = {
  expand: V1_SHAPES,
  'dual-write': { readNew: false, writeNew: true, writeOld: true },
  'switch-reads': { readNew: true, writeNew: true, writeOld: true },
  contract: { readNew: true, writeNew: true, writeOld: false },
};

describe('SessionsStore across the shapes of auth.session-keyspace (v1 session:<sid> -> v2 sess:{<userId>}:<sid> hash) on redis-server', () => {
  let redis: Redis;
  const prefix = `${services.redisPrefix}shapes:`;
  const store = (phase: keyof typeof PHASES) => new SessionsStore(redis, { prefix, shapes: () => PHASES[phase], scanCount: 7 });
  const rotate = async (s: SessionsStore, sid: string, presented: string, next: string): Promise<SessionRecord | 'reuse' | 'unknown' | 'gone' | 'lost'> => {
    const read = await s.get(sid);
    if (!read) return 'gone';
    const decision = decideRefresh(read.record, presented, next, Date.now());
    if (decision.kind !== 'rotate') return decision.kind;
    return (await s.replace(sid, read, decision.next, 600)) ? decision.next : 'lost';
  };

  beforeAll(() => {
    redis = new Redis(services.redis.url);
  });
  afterAll(() => redis?.quit());

  it.each(Object.keys(PHASES))('in %s, writes the shapes the flags ask for with the expiry and reads the one read-new names', async (phase) => {
    const s = store(phase);
    const sid = `create-${phase}`;
    expect(await s.create(sid, startSession('u-create', 'h0', 0), 600)).toBe(true);
    const { v1, v2 } = { v1: await redis.type(s.keys.v1(sid)), v2: await redis.type(s.keys.v2('u-create', sid)) };
    expect({ v1, v2 }).toEqual({ v1: PHASES[phase].writeNew && !PHASES[phase].writeOld ? 'none' : 'string', v2: PHASES[phase].writeNew ? 'hash' : 'none' });
    if (PHASES[phase].writeNew) {
      expect(await redis.sismember(s.keys.index('u-create'), sid)).toBe(1);
      expect(await redis.get(s.keys.owner(sid))).toBe('u-create');
      for (const key of [s.keys.v2('u-create', sid), s.keys.index('u-create'), s.keys.owner(sid)]) expect(await redis.ttl(key)).toBeGreaterThan(595);
    }
    expect(await s.ttl(sid)).toBeGreaterThan(595);
    expect((await s.get(sid))?.shape).toBe(PHASES[phase].readNew ? 2 : 1);
    expect((await s.get(sid))?.record).toEqual(startSession('u-create', 'h0', 0));
    expect(await s.create(sid, startSession('u-other', 'h', 0), 600)).toBe(false);
  });

  it('rotates one refresh-token family across builds and shapes, and a reused token revokes it in every shape', async () => {
    const sid = 'family';
    expect(await store('expand').create(sid, startSession('u-fam', 'h0', 0), 600)).toBe(true);
    // A v1 build (blue) rotates, then a dual-writing build (green), then a v2-reading one.
    expect(await rotate(store('expand'), sid, 'h0', 'h1')).toMatchObject({ refreshHash: 'h1', generation: 1 });
    expect(await rotate(store('dual-write'), sid, 'h1', 'h2')).toMatchObject({ refreshHash: 'h2', generation: 2 });
    expect(await redis.hget(store('dual-write').keys.v2('u-fam', sid), 'refreshHash')).toBe('h2');
    expect(await rotate(store('switch-reads'), sid, 'h2', 'h3')).toMatchObject({ refreshHash: 'h3', usedHashes: ['h0', 'h1', 'h2'] });
    // write-old kept v1 current: an old reader sees the same family.
    expect((await store('expand').get(sid))?.record).toMatchObject({ refreshHash: 'h3', generation: 3 });
    expect(await rotate(store('switch-reads'), sid, 'h9', 'x')).toBe('unknown');
    expect(await rotate(store('switch-reads'), sid, 'h1', 'x')).toBe('reuse');
    expect(await store('switch-reads').revoke(sid, 'u-fam')).toBe(true);
    for (const phase of Object.keys(PHASES)) expect(await store(phase).get(sid)).toBeNull();
    expect(await redis.exists(store('expand').keys.owner(sid), store('expand').keys.index('u-fam'))).toBe(0);
  });

  it('of two racing rotations of a v2 session, one wins; under contract a rotation drops the leftover v1 copy', async () => {
    const sid = 'race';
    await store('dual-write').create(sid, startSession('u-race', 'h0', 0), 600);
    const results = await Promise.all([rotate(store('switch-reads'), sid, 'h0', 'a'), rotate(store('switch-reads'), sid, 'h0', 'b')]);
    expect(results.filter((r) => typeof r === 'object')).toHaveLength(1);
    expect(results.filter((r) => r === 'lost')).toHaveLength(1);
    const winner = (results.find((r) => typeof r === 'object') as SessionRecord).refreshHash;
    expect(await redis.exists(store('contract').keys.v1(sid))).toBe(1);
    expect(await rotate(store('contract'), sid, winner, 'c')).toMatchObject({ refreshHash: 'c' });
    expect(await redis.exists(store('contract').keys.v1(sid))).toBe(0);
    expect(await store('contract').revoke(sid)).toBe(true);
    expect(await store('contract').revoke(sid)).toBe(false);
  });

  it('logs a user out everywhere with one script over the index, and finds the sessions written before v2 by SCAN while v1 is read', async () => {
    for (let i = 0; i < 3; i++) await store('expand').create(`ev-old-${i}`, startSession('u-ev', `h${i}`, 0), 600);
    for (let i = 0; i < 4; i++) await store('dual-write').create(`ev-new-${i}`, startSession('u-ev', `h${i}`, 0), 600);
    for (let i = 0; i < 5; i++) await store('dual-write').create(`ev-other-${i}`, startSession('u-other', `h${i}`, 0), 600);
    expect(await store('dual-write').revokeUser('u-ev')).toBe(7);
    for (const sid of ['ev-old-0', 'ev-new-3']) for (const phase of Object.keys(PHASES)) expect(await store(phase).get(sid)).toBeNull();
    expect(await redis.exists(store('expand').keys.index('u-ev'))).toBe(0);
    expect((await store('switch-reads').get('ev-other-4'))?.record.userId).toBe('u-other');
    // Once v2 is read, the index is all there is to it.
    for (let i = 0; i < 3; i++) await store('contract').create(`ev-late-${i}`, startSession('u-ev', `h${i}`, 0), 600);
    expect(await store('contract').revokeUser('u-ev')).toBe(3);
    expect(await store('contract').revokeUser('u-ev')).toBe(0);
  });

  it('reports a malformed v2 session with its key and the reason', async () => {
    const s = store('switch-reads');
    await redis.set(s.keys.owner('bad2'), 'u-bad');
    await redis.hset(s.keys.v2('u-bad', 'bad2'), { userId: 'u-bad', refreshHash: 'h' });
    await expect(s.get('bad2')).rejects.toEqual(new MalformedSessionError(s.keys.v2('u-bad', 'bad2'), 'usedHashes is missing'));
  });
});
