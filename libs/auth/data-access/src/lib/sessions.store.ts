import { sessionFromHash, sessionKeys, sessionRecordProblem, sessionToHash, type SessionKeys, type SessionRecord } from '@zdm/auth-domain';
import type { Redis } from 'ioredis';

/**
 * Which session shapes a call reads and writes, from the flags of `auth.session-keyspace`:
 * v1 `session:<sid>` (a JSON string) and v2 `sess:{<userId>}:<sid>` (a hash, with the user's index
 * set `sess-index:{<userId>}` and the pointer `sess-owner:<sid>`).
 */
export interface SessionShapes {
  /** Read v2 (read-new); otherwise v1. The shape read is the truth; the other is never read. */
  readNew: boolean;
  /** Write v2 (write-new). */
  writeNew: boolean;
  /** Also write v1 while writing v2 (write-old); without write-new v1 is always written. */
  writeOld: boolean;
}

/** What a build that knows no migration does: v1 only. */
export const V1_SHAPES: SessionShapes = { readNew: false, writeNew: false, writeOld: true };

/** Options of {@link SessionsStore}. */
export interface SessionsStoreOptions {
  /** Prepended to every key (tests give each suite its own). Default none. */
  prefix?: string;
  /** Keys examined per SCAN step when logging a user out everywhere from v1. Default 500. */
  scanCount?: number;
  /** The shapes to use, asked on every call (flags change at runtime). Default {@link V1_SHAPES}. */
  shapes?: () => SessionShapes;
}

/** A stored session that is not a session record: reported with its key and the reason, never trusted. */
export class MalformedSessionError extends Error {
  constructor(
    readonly key: string,
    readonly reason: string,
  ) {
    super(`${key} does not hold a session record: ${reason}`);
    this.name = 'MalformedSessionError';
  }
}

/** A session as read: the record, the shape it was read from and, for v1, the exact stored text (what the compare-and-set compares). */
export interface ReadSession {
  record: SessionRecord;
  shape: 1 | 2;
  /** v1: the stored JSON text; v2: the hash as JSON (informational). */
  raw: string;
}

/**
 * Writes v2 of one session. KEYS: v1, v2, index, owner; ARGV[n..]: hash fields (JSON), ttl s, sid, userId.
 * The index set lives as long as its longest-lived session.
 */
const WRITE_V2 = `
local function writeV2(fieldsJson, ttl, sid, userId)
  redis.call('DEL', KEYS[2])
  local flat = {}
  for f, v in pairs(cjson.decode(fieldsJson)) do flat[#flat + 1] = f flat[#flat + 1] = v end
  redis.call('HSET', KEYS[2], unpack(flat))
  redis.call('EXPIRE', KEYS[2], ttl)
  local cur = redis.call('PTTL', KEYS[3])
  redis.call('SADD', KEYS[3], sid)
  if cur ~= -1 and cur < ttl * 1000 then redis.call('EXPIRE', KEYS[3], ttl) end
  redis.call('SET', KEYS[4], userId, 'EX', ttl)
end
local function dropV2(sid)
  redis.call('DEL', KEYS[2], KEYS[4])
  redis.call('SREM', KEYS[3], sid)
end
`;

/** ARGV: writeV1, writeV2, v1 JSON, hash fields JSON, ttl s, sid, userId. Creates nothing if the id is taken in either shape (any user's). */
const CREATE = `${WRITE_V2}
if redis.call('EXISTS', KEYS[1], KEYS[2], KEYS[4]) > 0 then return 0 end
local ttl = tonumber(ARGV[5])
if ARGV[1] == '1' then redis.call('SET', KEYS[1], ARGV[3], 'EX', ttl) end
if ARGV[2] == '1' then writeV2(ARGV[4], ttl, ARGV[6], ARGV[7]) end
return 1`;

/**
 * Compare-and-set of a rotation. ARGV: shape read ('1' | '2'), expected (v1 text | v2 refreshHash),
 * expected v2 generation, writeV1, writeV2, v1 JSON, hash fields JSON, ttl s, sid, userId.
 * Applies only if the shape read still holds what was read; then writes the shapes asked for and
 * deletes the others, so no stale copy is left to read later.
 */
const REPLACE = `${WRITE_V2}
if ARGV[1] == '1' then
  if redis.call('GET', KEYS[1]) ~= ARGV[2] then return 0 end
else
  local cur = redis.call('HMGET', KEYS[2], 'refreshHash', 'generation')
  if cur[1] ~= ARGV[2] or cur[2] ~= ARGV[3] then return 0 end
end
local ttl = tonumber(ARGV[8])
if ARGV[4] == '1' then redis.call('SET', KEYS[1], ARGV[6], 'EX', ttl) else redis.call('DEL', KEYS[1]) end
if ARGV[5] == '1' then writeV2(ARGV[7], ttl, ARGV[9], ARGV[10]) else dropV2(ARGV[9]) end
return 1`;

/** Ends one session in both shapes. KEYS: v1, v2, index, owner; ARGV: sid. Returns how many shapes existed. */
const REVOKE = `${WRITE_V2}
local n = redis.call('DEL', KEYS[1], KEYS[2])
dropV2(ARGV[1])
return n`;

/**
 * Ends every session in a user's index, in both shapes. KEYS[1]: the index; ARGV: the key names of
 * a v2 session, a v1 session and a pointer without the session id. Returns how many sessions existed.
 */
const REVOKE_INDEXED = `
local n = 0
for _, sid in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if redis.call('DEL', ARGV[1] .. sid, ARGV[2] .. sid) > 0 then n = n + 1 end
  redis.call('DEL', ARGV[3] .. sid)
end
redis.call('DEL', KEYS[1])
return n`;

type Script = (...args: (string | number)[]) => Promise<number>;
const SCRIPTS = { zdmSessionCreate: [4, CREATE], zdmSessionReplace: [4, REPLACE], zdmSessionRevoke: [4, REVOKE], zdmSessionRevokeIndexed: [1, REVOKE_INDEXED] } as const;

/**
 * Sessions in Redis, in the shapes {@link SessionShapes} choose: v1 `session:<sid>` holds the
 * {@link SessionRecord} as a JSON string; v2 `sess:{<userId>}:<sid>` holds it as a hash, indexed
 * per user. Either expires with its refresh token (each rotation sets the expiry again). A write
 * stores the shapes asked for and deletes the other one, in one script.
 */
export class SessionsStore {
  readonly keys: SessionKeys;
  private readonly scanCount: number;
  private readonly shapes: () => SessionShapes;

  constructor(
    private readonly redis: Redis,
    options: SessionsStoreOptions = {},
  ) {
    this.keys = sessionKeys(options.prefix ?? '');
    this.scanCount = options.scanCount ?? 500;
    this.shapes = options.shapes ?? (() => V1_SHAPES);
    for (const [name, [numberOfKeys, lua]] of Object.entries(SCRIPTS)) if (!(name in redis)) redis.defineCommand(name, { numberOfKeys, lua });
  }

  private script(name: keyof typeof SCRIPTS): Script {
    const fn = (this.redis as unknown as Record<string, Script>)[name];
    return (...args) => fn.call(this.redis, ...args);
  }

  /** The v1 key of session `sid`. */
  key(sid: string): string {
    return this.keys.v1(sid);
  }

  private keysOf(userId: string, sid: string): string[] {
    return [this.keys.v1(sid), this.keys.v2(userId, sid), this.keys.index(userId), this.keys.owner(sid)];
  }

  private writes(): { v1: '1' | '0'; v2: '1' | '0' } {
    const s = this.shapes();
    return { v1: !s.writeNew || s.writeOld ? '1' : '0', v2: s.writeNew ? '1' : '0' };
  }

  /** Stores a new session expiring in `ttlSeconds`; false when the id is taken (never overwrites). */
  async create(sid: string, record: SessionRecord, ttlSeconds: number): Promise<boolean> {
    const w = this.writes();
    const created = await this.script('zdmSessionCreate')(...this.keysOf(record.userId, sid), w.v1, w.v2, JSON.stringify(record), JSON.stringify(sessionToHash(record)), ttlSeconds, sid, record.userId);
    return created === 1;
  }

  /** The session, or null when there is none (expired, revoked, never existed), from the shape read-new says. */
  async get(sid: string): Promise<ReadSession | null> {
    if (!this.shapes().readNew) {
      const key = this.keys.v1(sid);
      const raw = await this.redis.get(key);
      return raw === null ? null : { record: parseRecord(key, raw), shape: 1, raw };
    }
    const userId = await this.redis.get(this.keys.owner(sid));
    if (userId === null) return null;
    let key: string;
    try {
      key = this.keys.v2(userId, sid);
    } catch (err) {
      throw new MalformedSessionError(this.keys.owner(sid), (err as Error).message);
    }
    const hash = await this.redis.hgetall(key);
    if (Object.keys(hash).length === 0) return null;
    try {
      return { record: sessionFromHash(hash), shape: 2, raw: JSON.stringify(hash) };
    } catch (err) {
      throw new MalformedSessionError(key, (err as Error).message);
    }
  }

  /** Replaces the session with `next` (expiring in `ttlSeconds`) only if the shape it was read from still holds `read`; false when it changed or went. */
  async replace(sid: string, read: ReadSession, next: SessionRecord, ttlSeconds: number): Promise<boolean> {
    const w = this.writes();
    const expected = read.shape === 1 ? read.raw : read.record.refreshHash;
    const applied = await this.script('zdmSessionReplace')(
      ...this.keysOf(read.record.userId, sid),
      String(read.shape),
      expected,
      String(read.record.generation),
      w.v1,
      w.v2,
      JSON.stringify(next),
      JSON.stringify(sessionToHash(next)),
      ttlSeconds,
      sid,
      read.record.userId,
    );
    return applied === 1;
  }

  /**
   * Ends a session in both shapes; false when there was none. `userId` names its v2 key; without
   * it the pointer (or the v1 record) says whose it is.
   */
  async revoke(sid: string, userId?: string): Promise<boolean> {
    const owner = userId ?? (await this.ownerOf(sid));
    if (owner === null) return (await this.redis.del(this.keys.v1(sid))) === 1;
    return (await this.script('zdmSessionRevoke')(...this.keysOf(owner, sid), sid)) > 0;
  }

  private async ownerOf(sid: string): Promise<string | null> {
    const [pointer, v1] = await this.redis.mget(this.keys.owner(sid), this.keys.v1(sid));
    if (pointer !== null) return pointer;
    if (v1 === null) return null;
    try {
      return parseRecord(this.keys.v1(sid), v1).userId;
    } catch {
      return null;
    }
  }

  /** Seconds until the session expires (-2 when there is none), in the shape read-new says. */
  async ttl(sid: string): Promise<number> {
    if (!this.shapes().readNew) return this.redis.ttl(this.keys.v1(sid));
    const userId = await this.redis.get(this.keys.owner(sid));
    return userId === null ? -2 : this.redis.ttl(this.keys.v2(userId, sid));
  }

  /**
   * Ends every session of `userId`: one script over the user's index ends every indexed session in
   * both shapes. While v1 is still read, v1 sessions written before v2 was (not in any index) are
   * found by a SCAN of `session:*` and ended in both shapes too (a backfill may copy one to v2
   * meanwhile). Returns how many sessions were ended. Malformed v1 values are
   * left in place (and not counted).
   */
  async revokeUser(userId: string): Promise<number> {
    let revoked = await this.script('zdmSessionRevokeIndexed')(this.keys.index(userId), this.keys.v2(userId, ''), this.keys.v1(''), this.keys.owner(''));
    if (this.shapes().readNew) return revoked;
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', this.keys.v1Pattern, 'COUNT', this.scanCount);
      cursor = next;
      if (keys.length === 0) continue;
      const values = await this.redis.mget(keys);
      // Each in both shapes: a backfill may have copied it to v2 since the index was read.
      for (const key of keys.filter((k, i) => ownedBy(k, values[i], userId))) {
        const sid = key.slice(this.keys.v1('').length);
        if ((await this.script('zdmSessionRevoke')(...this.keysOf(userId, sid), sid)) > 0) revoked++;
      }
    } while (cursor !== '0');
    return revoked;
  }
}

function ownedBy(key: string, raw: string | null, userId: string): boolean {
  if (raw === null) return false;
  try {
    return parseRecord(key, raw).userId === userId;
  } catch {
    return false;
  }
}

function parseRecord(key: string, raw: string): SessionRecord {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new MalformedSessionError(key, 'not JSON');
  }
  const problem = sessionRecordProblem(value);
  if (problem) throw new MalformedSessionError(key, problem);
  return value as SessionRecord;
}
