import type { Redis } from 'ioredis';
import {
  AuditEntry,
  Checkpoint,
  ControlStore,
  InstanceHeartbeat,
  Lease,
  MigrationState,
  QuarantineEntry,
} from '@zdm/migrations-core';
import { LuaScript } from './lua.script';
import { decodeRecord, encodeRecord } from './value.codec';

/** Options for {@link createRedisControlStore}. */
export interface RedisControlStoreOptions {
  /** Prefix of every control key, e.g. `zdm:` or `orders:zdm:`. Keep it outside the migrated key patterns. */
  prefix: string;
  /** Heartbeats expired longer ago than this are deleted on the next beat. Default 60000 ms. */
  heartbeatGraceMs?: number;
}

/** Saves a state only if the stored revision (0 when absent) still equals the expected one. */
const SAVE_STATE = new LuaScript(`
local cur = redis.call('HGET', KEYS[1], ARGV[1])
local rev = 0
if cur then rev = tonumber(cjson.decode(cur).revision) or 0 end
if rev ~= tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1
`);

/** Takes a free lease (or one this owner already holds) and bumps the fencing token by one. */
const ACQUIRE = new LuaScript(`
local owner = redis.call('HGET', KEYS[1], 'owner')
if owner and owner ~= ARGV[1] then return false end
local token = redis.call('INCR', KEYS[2])
redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'token', token)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return token
`);

/** Renews, releases or writes the checkpoint, only while the lease is held with this token. */
const FENCED = new LuaScript(`
if redis.call('HGET', KEYS[1], 'token') ~= ARGV[1] then return 0 end
if ARGV[2] == 'renew' then redis.call('PEXPIRE', KEYS[1], ARGV[3])
elseif ARGV[2] == 'release' then redis.call('DEL', KEYS[1])
else redis.call('SET', KEYS[2], ARGV[3]) end
return 1
`);

/** Upserts a heartbeat with its expiry time and drops the ones long expired. */
const BEAT = new LuaScript(`
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
local dead = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[4])
for _, id in ipairs(dead) do
  redis.call('HDEL', KEYS[1], id)
  redis.call('ZREM', KEYS[2], id)
end
return #dead
`);

/**
 * A {@link ControlStore} kept in the service's own Redis, under `prefix`:
 * - `state` hash (id -> state), saved with a compare-and-set on `revision` (Lua);
 * - `lease:<job>` hash with a Redis expiry, `lease-token:<job>` counter (INCR: grows by one per
 *   acquisition), `checkpoint:<job>` written only while the token still holds the lease (Lua);
 * - `audit:<migration>` list, `quarantine:<migration>` hash (document id -> entry);
 * - `heartbeats` hash plus `heartbeat-expiry` sorted set scored by expiry time.
 */
export function createRedisControlStore(redis: Redis, options: RedisControlStoreOptions): ControlStore {
  const p = options.prefix;
  const grace = options.heartbeatGraceMs ?? 60_000;
  const key = {
    state: `${p}state`,
    lease: (job: string) => `${p}lease:${job}`,
    token: (job: string) => `${p}lease-token:${job}`,
    checkpoint: (job: string) => `${p}checkpoint:${job}`,
    audit: (id: string) => `${p}audit:${id}`,
    quarantine: (id: string) => `${p}quarantine:${id}`,
    heartbeats: `${p}heartbeats`,
    expiry: `${p}heartbeat-expiry`,
  };
  const fenced = async (job: string, token: number, op: 'renew' | 'release' | 'checkpoint', arg: string) =>
    (await FENCED.run(redis, [key.lease(job), key.checkpoint(job)], [token, op, arg])) === 1;

  return {
    state: {
      async load(id) {
        const raw = await redis.hget(key.state, id);
        return raw ? decodeRecord<MigrationState>(raw) : null;
      },
      async save(state, expectedRevision) {
        const next: MigrationState = { ...state, revision: expectedRevision + 1 };
        return (await SAVE_STATE.run(redis, [key.state], [state.id, expectedRevision, encodeRecord(next)])) === 1;
      },
      async list() {
        return (await redis.hvals(key.state)).map((raw) => decodeRecord<MigrationState>(raw));
      },
    },
    leases: {
      async acquire(job, owner, ttlMs) {
        const expiresAt = new Date(Date.now() + ttlMs);
        const token = await ACQUIRE.run(redis, [key.lease(job), key.token(job)], [owner, Math.ceil(ttlMs)]);
        return token === null ? null : { key: job, owner, token: Number(token), expiresAt };
      },
      async renew(lease, ttlMs): Promise<Lease | null> {
        const expiresAt = new Date(Date.now() + ttlMs);
        return (await fenced(lease.key, lease.token, 'renew', String(Math.ceil(ttlMs)))) ? { ...lease, expiresAt } : null;
      },
      async release(lease) {
        await fenced(lease.key, lease.token, 'release', '');
      },
      async readCheckpoint(job) {
        const raw = await redis.get(key.checkpoint(job));
        return raw ? decodeRecord<Checkpoint>(raw) : null;
      },
      writeCheckpoint(job, token, checkpoint) {
        return fenced(job, token, 'checkpoint', encodeRecord(checkpoint));
      },
      async resetCheckpoint(job) {
        await redis.del(key.checkpoint(job));
      },
    },
    audit: {
      async append(entry) {
        await redis.rpush(key.audit(entry.migrationId), encodeRecord(entry));
      },
      async list(migrationId, limit = 1000) {
        return (await redis.lrange(key.audit(migrationId), -limit, -1)).map((raw) => decodeRecord<AuditEntry>(raw));
      },
    },
    quarantine: {
      async put(entry) {
        await redis.hset(key.quarantine(entry.migrationId), entry.docId, encodeRecord(entry));
      },
      async list(migrationId) {
        return (await redis.hvals(key.quarantine(migrationId))).map((raw) => decodeRecord<QuarantineEntry>(raw));
      },
      async remove(migrationId, docId) {
        await redis.hdel(key.quarantine(migrationId), docId);
      },
      count(migrationId) {
        return redis.hlen(key.quarantine(migrationId));
      },
    },
    heartbeats: {
      async beat(hb, ttlMs) {
        const expiresAt = hb.at.getTime() + ttlMs;
        await BEAT.run(redis, [key.heartbeats, key.expiry], [hb.instanceId, encodeRecord(hb), expiresAt, Date.now() - grace]);
      },
      async remove(instanceId) {
        await redis.multi().hdel(key.heartbeats, instanceId).zrem(key.expiry, instanceId).exec();
      },
      async live(now = new Date()) {
        const ids = await redis.zrangebyscore(key.expiry, `(${now.getTime()}`, '+inf');
        if (ids.length === 0) return [];
        const raws = await redis.hmget(key.heartbeats, ...ids);
        return raws.filter((r): r is string => r !== null).map((raw) => decodeRecord<InstanceHeartbeat>(raw));
      },
    },
  };
}
