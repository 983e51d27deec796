import { MigrationRegistry, roundTripCheck } from '@zdm/migrations-core';
import { authRegistry, sessionsReadRange } from './auth.migrations';
import { startSession } from './refresh-family';
import { sessionFromHash, sessionHashProblem, sessionKeys, sessionKeyspaceMigration, sessionToHash } from './session-keyspace';

describe('the session keyspace, v1 -> v2', () => {
  const keys = sessionKeys('p:');
  const record = { ...startSession('665f1c2ab4d9e0a1b2c3d4e5', 'h2', 1_000), usedHashes: ['h0', 'h1'], generation: 2, refreshedAt: 2_000 };

  it('names v2 keys with the user id as a hash tag, so a user’s sessions and index share a cluster slot', () => {
    expect(keys.v1('S1')).toBe('p:session:S1');
    expect(keys.v2('u1', 'S1')).toBe('p:sess:{u1}:S1');
    expect(keys.index('u1')).toBe('p:sess-index:{u1}');
    expect(keys.owner('S1')).toBe('p:sess-owner:S1');
    expect(keys.parseV2('p:sess:{u1}:S1')).toEqual({ userId: 'u1', sid: 'S1' });
    for (const other of ['p:sess-index:{u1}', 'q:sess:{u1}:S1', 'p:session:S1', 'p:sess:{u1}:S1:x']) expect(keys.parseV2(other)).toBeNull();
    expect(() => keys.v2('a}b', 'S1')).toThrow(/cannot be a hash tag/);
  });

  it('stores a record as a hash of strings and reads the same record back', () => {
    const hash = sessionToHash(record);
    expect(hash).toEqual({ userId: record.userId, refreshHash: 'h2', usedHashes: 'h0 h1', generation: '2', createdAt: '1000', refreshedAt: '2000' });
    expect(sessionFromHash(hash)).toEqual(record);
    expect(sessionFromHash(sessionToHash(startSession('u', 'h', 5))).usedHashes).toEqual([]);
  });

  it.each([
    [{ userId: 'u' }, 'refreshHash is missing'],
    [{ ...sessionToHash(record), generation: '1.5' }, 'generation is not a decimal integer'],
    [{ ...sessionToHash(record), extra: 'x' }, 'unknown field(s) extra'],
    [{ ...sessionToHash(record), userId: '' }, 'userId is empty'],
  ])('says why %j is not a session hash', (hash, problem) => {
    expect(sessionHashProblem(hash)).toBe(problem);
    expect(() => sessionFromHash(hash)).toThrow(problem);
  });

  it('up() refuses a malformed v1 record (the runner quarantines it) and round-trips good ones through down()', () => {
    const def = sessionKeyspaceMigration('p:');
    expect(() => def.up({ userId: 1 })).toThrow('userId must be a string');
    expect(def.verify?.(def.up({ ...record }))).toBe(true);
    expect(roundTripCheck(def, [{ id: 'p:session:S1', doc: { ...record } }])).toMatchObject({ reversible: true, failures: [] });
  });

  it('is registered by the hub, with the deployment prefix in its key patterns and a prefix-free target name', () => {
    const registry: MigrationRegistry = authRegistry({ redisPrefix: 'p:' });
    const def = registry.get('auth.session-keyspace');
    expect(def.target).toMatchObject({ kind: 'redis', name: 'sessions', keyPattern: 'p:session:*', versioning: 'relocate' });
    expect(sessionsReadRange(registry)).toEqual({ readMin: 1, readMax: 2 });
    expect(sessionsReadRange(authRegistry())).toEqual({ readMin: 1, readMax: 2 });
  });
});
