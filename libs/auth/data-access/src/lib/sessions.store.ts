import { sessionRecordProblem, type SessionRecord } from '@zdm/auth-domain';
import type { Redis } from 'ioredis';

/** Options of {@link SessionsStore}. */
export interface SessionsStoreOptions {
  /** Prepended to every key (tests give each suite its own). Default none. */
  prefix?: string;
  /** Keys examined per SCAN step when logging a user out everywhere. Default 500. */
  scanCount?: number;
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

/**
 * Sets KEYS[1] to ARGV[2] with expiry ARGV[3] seconds only if it still holds ARGV[1]: a
 * compare-and-set on the whole value, so two refreshes racing with the same token rotate once.
 */
const COMPARE_AND_SET = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
  return 1
end
return 0`;

/** A session as read, with the exact stored text (the compare-and-set compares against it). */
export interface ReadSession {
  record: SessionRecord;
  raw: string;
}

type CasCommand = (key: string, expected: string, value: string, ttlSeconds: number) => Promise<number>;

/**
 * Sessions in Redis, shape v1: `session:<sid>` holds the {@link SessionRecord} as a JSON string,
 * expiring with its refresh token (each rotation sets the expiry again). Logging a user out
 * everywhere walks the whole keyspace with SCAN, since v1 keeps no per-user index.
 */
export class SessionsStore {
  private readonly prefix: string;
  private readonly scanCount: number;

  constructor(
    private readonly redis: Redis,
    options: SessionsStoreOptions = {},
  ) {
    this.prefix = options.prefix ?? '';
    this.scanCount = options.scanCount ?? 500;
    if (!('zdmSessionCas' in redis)) redis.defineCommand('zdmSessionCas', { numberOfKeys: 1, lua: COMPARE_AND_SET });
  }

  /** The key of session `sid`. */
  key(sid: string): string {
    return `${this.prefix}session:${sid}`;
  }

  /** Stores a new session expiring in `ttlSeconds`; false when the id is taken (never overwrites). */
  async create(sid: string, record: SessionRecord, ttlSeconds: number): Promise<boolean> {
    return (await this.redis.set(this.key(sid), JSON.stringify(record), 'EX', ttlSeconds, 'NX')) === 'OK';
  }

  /** The session, or null when there is none (expired, revoked, never existed). */
  async get(sid: string): Promise<ReadSession | null> {
    const key = this.key(sid);
    const raw = await this.redis.get(key);
    return raw === null ? null : { record: parseRecord(key, raw), raw };
  }

  /** Replaces the session with `next` (expiring in `ttlSeconds`) only if it still holds exactly `read`; false when it changed or went. */
  async replace(sid: string, read: ReadSession, next: SessionRecord, ttlSeconds: number): Promise<boolean> {
    const cas = (this.redis as unknown as { zdmSessionCas: CasCommand }).zdmSessionCas;
    return (await cas.call(this.redis, this.key(sid), read.raw, JSON.stringify(next), ttlSeconds)) === 1;
  }

  /** Ends a session; false when there was none. */
  async revoke(sid: string): Promise<boolean> {
    return (await this.redis.del(this.key(sid))) === 1;
  }

  /** Seconds until the session expires (-2 when there is none). */
  ttl(sid: string): Promise<number> {
    return this.redis.ttl(this.key(sid));
  }

  /**
   * Ends every session of `userId`: walks `session:*` with SCAN and deletes the user's. Returns how
   * many were ended. Malformed values are left in place (and not counted).
   */
  async revokeUser(userId: string): Promise<number> {
    let cursor = '0';
    let revoked = 0;
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${this.prefix}session:*`, 'COUNT', this.scanCount);
      cursor = next;
      if (keys.length === 0) continue;
      const values = await this.redis.mget(keys);
      const mine = keys.filter((key, i) => ownedBy(key, values[i], userId));
      if (mine.length) revoked += await this.redis.del(...mine);
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
