import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { decideRefresh, sessionKeyspaceMigration, startSession, type SessionRecord } from '@zdm/auth-domain';
import { MigrationRegistry, Migrator, RunResult } from '@zdm/migrations-core';
import { createRedisBackend } from '@zdm/migrations-redis';
import { integrationServices } from '@zdm/dev-services';
import Redis from 'ioredis';
import { SessionShapes, SessionsStore, V1_SHAPES } from './sessions.store';

jest.setTimeout(180_000);

const services = integrationServices(['redis']);
const root = resolve(__dirname, '../../../../..');

const SEEDED = 2_000;
const USERS = 100;
const CLIENTS = 4;
const TTL_S = 600;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const hash = (token: string) => createHash('sha256').update(token).digest('base64url');
const newToken = () => randomBytes(16).toString('base64url');

const DUAL_WRITE: SessionShapes = { readNew: false, writeNew: true, writeOld: true };
const SWITCH_READS: SessionShapes = { readNew: true, writeNew: true, writeOld: true };
const CONTRACT: SessionShapes = { readNew: true, writeNew: true, writeOld: false };

/** What the clients know: each live session's user, current token and the tokens it used. */
interface Known {
  userId: string;
  token: string;
  used: string[];
  touched: boolean;
}

/**
 * auth.session-keyspace on redis-server, as the hub lives it: 2,000 sessions written by v1 (half of
 * them of users nobody acts for during the run), a
 * dual-writing build serving logins, refreshes (with replayed tokens), logouts and logouts
 * everywhere while the backfill runs, the backfill runner SIGKILLed mid-way and resumed; then
 * verify, reads switched to v2, contract.
 */
describe('auth.session-keyspace under load (redis-server)', () => {
  const prefix = `${services.redisPrefix}mig:`;
  const def = sessionKeyspaceMigration(prefix);
  const registry = MigrationRegistry.create([def]);
  let redis: Redis;
  let migrator: Migrator;
  let backend: ReturnType<typeof createRedisBackend>;
  const known = new Map<string, Known>();
  const revoked = new Set<string>();
  const expiryBefore = new Map<string, number>();
  const figures: Record<string, unknown> = {};
  const store = (shapes: SessionShapes, client = redis) => new SessionsStore(client, { prefix, shapes: () => shapes });

  beforeAll(async () => {
    redis = new Redis(services.redis.url);
    backend = createRedisBackend({ redis, controlPrefix: `${prefix}zdm:`, registry });
    migrator = new Migrator({ registry, backend, throttle: { initialBatchSize: 100, minBatchSize: 100, maxBatchSize: 100 }, leaseTtlMs: 1_500, owner: 'test-runner' });
    // v1 (blue) sessions: 300..600 s left, as a fortnight's sessions would be spread.
    const blue = store(V1_SHAPES);
    for (let i = 0; i < SEEDED; i++) {
      const sid = `seed-${i}`;
      const token = newToken();
      // Half belong to users no client acts for, so at least 1,000 sessions stay untouched for the TTL check.
      const userId = i % 2 === 0 ? `user-${(i / 2) % USERS}` : `idle-${i % USERS}`;
      expect(await blue.create(sid, startSession(userId, hash(token), Date.now()), 300 + ((i * 7919) % 300))).toBe(true);
      known.set(sid, { userId, token, used: [], touched: false });
    }
    const sids = [...known.keys()];
    const pttls = (await redis.pipeline(sids.map((sid) => ['pttl', blue.keys.v1(sid)])).exec()) ?? [];
    const now = Date.now();
    sids.forEach((sid, i) => expiryBefore.set(sid, now + Number(pttls[i]?.[1])));
  });
  afterAll(async () => {
    console.log(`auth.session-keyspace figures: ${JSON.stringify(figures, null, 2)}`);
    await redis?.quit();
  });

  /** One client of the dual-writing build; it owns the users u where u % CLIENTS == n, so its bookkeeping is exact. */
  async function client(n: number, running: () => boolean, counts: Record<string, number>): Promise<void> {
    const conn = redis.duplicate();
    const green = store(DUAL_WRITE, conn);
    const mine = () => [...known].filter(([, k]) => k.userId.startsWith('user-') && Number(k.userId.slice(5)) % CLIENTS === n);
    try {
      for (let op = 0; running(); op++) {
        const sessions = mine();
        const pick = sessions[Math.floor(Math.random() * sessions.length)];
        const roll = Math.random();
        if (roll < 0.25 || !pick) {
          const sid = `live-${n}-${op}`;
          const token = newToken();
          const userId = `user-${n + CLIENTS * Math.floor(Math.random() * (USERS / CLIENTS))}`;
          expect(await green.create(sid, startSession(userId, hash(token), Date.now()), TTL_S)).toBe(true);
          known.set(sid, { userId, token, used: [], touched: true });
          counts['logins']++;
        } else if (roll < 0.8) {
          const [sid, k] = pick;
          const replay = k.used.length > 0 && Math.random() < 0.05;
          const presented = replay ? k.used[0] : k.token;
          const next = newToken();
          const read = await green.get(sid);
          if (!read) throw new Error(`session ${sid} of ${k.userId} was lost`);
          const decision = decideRefresh(read.record, hash(presented), hash(next), Date.now());
          if (replay) {
            expect(decision.kind).toBe('reuse');
            expect(await green.revoke(sid, read.record.userId)).toBe(true);
            known.delete(sid);
            revoked.add(sid);
            counts['reuses revoked']++;
          } else {
            if (decision.kind !== 'rotate') throw new Error(`session ${sid}: refresh answered ${decision.kind}`);
            // The runner may write the session between the read and this write: then re-read, as the service does.
            if (!(await green.replace(sid, read, decision.next, TTL_S))) {
              counts['refresh retries']++;
              continue;
            }
            known.set(sid, { ...k, token: next, used: [...k.used, presented], touched: true });
            counts['refreshes']++;
          }
        } else if (roll < 0.97) {
          const [sid, k] = pick;
          expect(await green.revoke(sid, k.userId)).toBe(true);
          known.delete(sid);
          revoked.add(sid);
          counts['logouts']++;
        } else {
          const userId = pick[1].userId;
          const theirs = [...known].filter(([, k]) => k.userId === userId).map(([sid]) => sid);
          expect(await green.revokeUser(userId)).toBe(theirs.length);
          for (const sid of theirs) {
            known.delete(sid);
            revoked.add(sid);
          }
          counts['logouts everywhere']++;
        }
      }
    } finally {
      conn.disconnect();
    }
  }

  it('backfills while clients log in, refresh, replay tokens and log out, through a SIGKILL of the runner, losing no session and keeping every TTL within 1 s', async () => {
    let running = true;
    const counts: Record<string, number> = { logins: 0, refreshes: 0, 'refresh retries': 0, 'reuses revoked': 0, logouts: 0, 'logouts everywhere': 0 };
    const load = Promise.all(Array.from({ length: CLIENTS }, (_v, n) => client(n, () => running, counts)));
    const started = performance.now();

    // The first runner is its own process, frozen once it has checkpointed 5 batches and killed there.
    const child = spawn(resolve(root, 'node_modules/.bin/node'), ['-r', '@swc-node/register', resolve(__dirname, '../test/session-backfill.child.ts')], {
      cwd: root,
      env: { ...process.env, SWC_NODE_PROJECT: resolve(root, 'tsconfig.base.json'), REDIS_URL: services.redis.url, SESSIONS_PREFIX: prefix, ZDM_BATCH: '100', ZDM_LEASE_MS: '1500', ZDM_PAUSE_MS: '100', ZDM_FREEZE_AFTER: '5' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (d) => (stderr += String(d)));
    const exited = new Promise((r) => child.once('exit', (code, signal) => r(signal ?? code)));
    let childBatches = 0;
    for await (const line of createInterface({ input: child.stdout as NodeJS.ReadableStream })) {
      const event = JSON.parse(line);
      if ('status' in event) throw new Error(`the runner finished before it was killed: ${line}`);
      if (++childBatches === 5) child.kill('SIGKILL');
    }
    expect(await exited).toBe('SIGKILL');
    expect(stderr).toBe('');
    const killedAt = await migrator.store.leases.readCheckpoint(`${def.id}:backfill`);
    expect(killedAt).toMatchObject({ batches: 5, done: false });

    // Resumed here once the dead runner's lease has expired.
    let result: RunResult;
    for (;;) {
      result = await migrator.run(def.id, 'backfill');
      if (result.status !== 'lease-held') break;
      await sleep(250);
    }
    running = false;
    await load;
    figures['backfill'] = { seconds: Math.round((performance.now() - started) / 100) / 10, killedAfterBatches: childBatches, resumedFrom: killedAt?.processed, checkpoint: result.checkpoint, load: counts };
    expect(result.status).toBe('done');
    expect(counts['logins'] + counts['refreshes'] + counts['logouts']).toBeGreaterThan(50);
    expect(await backend.counts(def)).toEqual({ belowTarget: 0, withOldFields: known.size, quarantined: 0 });

    // 0 lost: every session a client holds is there in both shapes, with its current token; no ended one came back.
    const green = store(DUAL_WRITE);
    const v2 = store(SWITCH_READS);
    let liveV2 = 0;
    for (const [sid, k] of known) {
      const [old, moved] = [await green.get(sid), await v2.get(sid)];
      expect(old?.record).toEqual(moved?.record);
      expect(moved?.record.refreshHash).toBe(hash(k.token));
      liveV2++;
    }
    for (const sid of revoked) {
      expect(await green.get(sid)).toBeNull();
      expect(await v2.get(sid)).toBeNull();
    }
    const v2Keys = await scanCount(`${prefix}sess:{*}:*`);
    expect(v2Keys).toBe(known.size);
    expect(await scanCount(`${prefix}session:*`)).toBe(known.size);
    figures['sessions'] = { seeded: SEEDED, logins: counts['logins'], ended: revoked.size, expected: SEEDED + counts['logins'] - revoked.size, v1Keys: known.size, v2Keys, readableAtV2: liveV2 };
    expect(liveV2).toBe(SEEDED + counts['logins'] - revoked.size);

    // TTLs: sessions no client touched expire at v2 when they did at v1 (pointers too).
    const untouched = [...known].filter(([, k]) => !k.touched).map(([sid, k]) => ({ sid, keys: [v2.keys.v2(k.userId, sid), v2.keys.owner(sid), v2.keys.v1(sid)] }));
    const pttls = (await redis.pipeline(untouched.flatMap((u) => u.keys.map((key) => ['pttl', key]))).exec()) ?? [];
    const now = Date.now();
    let maxDelta = 0;
    untouched.forEach((u, i) => {
      for (let j = 0; j < u.keys.length; j++) {
        const pttl = Number(pttls[i * u.keys.length + j]?.[1]);
        expect(pttl).toBeGreaterThan(0);
        maxDelta = Math.max(maxDelta, Math.abs(now + pttl - (expiryBefore.get(u.sid) as number)));
      }
    });
    figures['ttl'] = { untouchedSessions: untouched.length, maxDeltaMs: maxDelta };
    expect(untouched.length).toBeGreaterThanOrEqual(SEEDED / 2);
    expect(maxDelta).toBeLessThanOrEqual(1_000);
  });

  it('verifies, serves refreshes from v2, and contracts to v2 alone with every session still usable', async () => {
    const { report } = await migrator.verify(def.id);
    expect(report).toMatchObject({ checked: known.size, mismatches: 0 });
    const v2 = store(SWITCH_READS);
    const sample = [...known].slice(0, 50);
    for (const [sid, k] of sample) {
      const read = await v2.get(sid);
      const next = newToken();
      const decision = decideRefresh(read?.record as SessionRecord, hash(k.token), hash(next), Date.now());
      expect(decision.kind).toBe('rotate');
      if (decision.kind === 'rotate' && read) expect(await v2.replace(sid, read, decision.next, TTL_S)).toBe(true);
      known.set(sid, { ...k, token: next, used: [...k.used, k.token] });
    }
    const contracted = await migrator.run(def.id, 'contract');
    expect(contracted.checkpoint).toMatchObject({ quarantined: 0 });
    expect(await scanCount(`${prefix}session:*`)).toBe(0);
    const v2Only = store(CONTRACT);
    for (const [sid, k] of known) expect((await v2Only.get(sid))?.record.refreshHash).toBe(hash(k.token));
    // Logging out everywhere is the index alone now.
    const [, someone] = [...known][0];
    const theirs = [...known].filter(([, k]) => k.userId === someone.userId).length;
    expect(await v2Only.revokeUser(someone.userId)).toBe(theirs);
    figures['contract'] = { verified: report.checked, v1KeysLeft: 0, sessionsReadAfterContract: known.size, loggedOutEverywhere: theirs };
  });

  async function scanCount(pattern: string): Promise<number> {
    const keys = new Set<string>();
    let cursor = '0';
    do {
      const [next, found] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      for (const k of found) keys.add(k);
    } while (cursor !== '0');
    return keys.size;
  }
});
