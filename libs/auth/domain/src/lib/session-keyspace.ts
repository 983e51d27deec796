import { Doc, MigrationDefinition } from '@zdm/migrations-core';
import { sessionRecordProblem, type SessionRecord } from './refresh-family';

/** Id of the migration of the session keyspace; its flags are named after it. */
export const SESSION_KEYSPACE_MIGRATION = 'auth.session-keyspace';

/** The name heartbeats, plans and status give the session keyspace (whatever the deployment's key prefix). */
export const SESSIONS_TARGET = 'sessions';

/** A session at v2: a Redis hash of strings (numbers in decimal, used token hashes space-separated). */
export type SessionHash = Record<keyof SessionRecord, string>;

/**
 * Key names of the session keyspace under a deployment prefix.
 * - v1: `session:<sid>` holds the record as a JSON string.
 * - v2: `sess:{<userId>}:<sid>` holds it as a hash; the braces are a Redis Cluster hash tag, so one
 *   user's sessions share a slot with `sess-index:{<userId>}`, the set of the user's session ids
 *   (logging out everywhere is one script over the index; it also deletes the v1 copies and
 *   pointers, in other slots, so the hub runs on standalone Redis).
 * - `sess-owner:<sid>` holds the user id: a refresh token names only its session, and the v2 key
 *   needs the user.
 */
export function sessionKeys(prefix = '') {
  const v2Name = new RegExp(`^${escapeRegExp(prefix)}sess:\\{([^{}]+)\\}:([^:]+)$`);
  return {
    v1: (sid: string) => `${prefix}session:${sid}`,
    v2: (userId: string, sid: string) => `${prefix}sess:{${hashTagged(userId)}}:${sid}`,
    index: (userId: string) => `${prefix}sess-index:{${hashTagged(userId)}}`,
    owner: (sid: string) => `${prefix}sess-owner:${sid}`,
    v1Pattern: `${prefix}session:*`,
    v2Pattern: `${prefix}sess:{*}:*`,
    /** The user and session of a v2 key, or null for any other key. */
    parseV2(key: string): { userId: string; sid: string } | null {
      const m = v2Name.exec(key);
      return m ? { userId: m[1], sid: m[2] } : null;
    },
  };
}

/** The key names of {@link sessionKeys}. */
export type SessionKeys = ReturnType<typeof sessionKeys>;

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

/** A user id usable inside a hash tag: not empty, without braces (they would end the tag). */
function hashTagged(userId: string): string {
  if (!userId || /[{}]/.test(userId)) throw new Error(`user id ${JSON.stringify(userId)} cannot be a hash tag (empty or with braces)`);
  return userId;
}

/** A session record as its v2 hash. */
export function sessionToHash(record: SessionRecord): SessionHash {
  return {
    userId: record.userId,
    refreshHash: record.refreshHash,
    usedHashes: record.usedHashes.join(' '),
    generation: String(record.generation),
    createdAt: String(record.createdAt),
    refreshedAt: String(record.refreshedAt),
  };
}

const DECIMAL = /^(0|-?[1-9][0-9]{0,15})$/;
const FIELDS: readonly (keyof SessionRecord)[] = ['userId', 'refreshHash', 'usedHashes', 'generation', 'createdAt', 'refreshedAt'];

/** Why `hash` is not a v2 session hash, or undefined. */
export function sessionHashProblem(hash: Record<string, unknown>): string | undefined {
  const extra = Object.keys(hash).filter((f) => !(FIELDS as string[]).includes(f));
  if (extra.length) return `unknown field(s) ${extra.join(', ')}`;
  for (const f of FIELDS) if (typeof hash[f] !== 'string') return `${f} is missing`;
  if (!hash['userId']) return 'userId is empty';
  if (!hash['refreshHash']) return 'refreshHash is empty';
  for (const f of ['generation', 'createdAt', 'refreshedAt']) if (!DECIMAL.test(String(hash[f]))) return `${f} is not a decimal integer`;
  return undefined;
}

/** The record a v2 hash holds; throws with the reason when it is not one. */
export function sessionFromHash(hash: Record<string, unknown>): SessionRecord {
  const problem = sessionHashProblem(hash);
  if (problem) throw new Error(problem);
  const h = hash as SessionHash;
  return {
    userId: h.userId,
    refreshHash: h.refreshHash,
    usedHashes: h.usedHashes ? h.usedHashes.split(' ') : [],
    generation: Number(h.generation),
    createdAt: Number(h.createdAt),
    refreshedAt: Number(h.refreshedAt),
  };
}

/**
 * `auth.session-keyspace` (v1 -> v2, expand/contract): each `session:<sid>` JSON string moves to
 * the hash `sess:{<userId>}:<sid>`, joins `sess-index:{<userId>}` and gets `sess-owner:<sid>`, all
 * expiring when the session does. The old key stays until contract, so rollback is possible from
 * every phase (down: the hash back to the JSON record).
 */
export function sessionKeyspaceMigration(prefix = ''): MigrationDefinition {
  const keys = sessionKeys(prefix);
  return {
    id: SESSION_KEYSPACE_MIGRATION,
    description: 'sessions: session:<sid> JSON string -> sess:{<userId>}:<sid> hash + per-user index set sess-index:{<userId>}',
    service: 'auth-hub',
    target: {
      kind: 'redis',
      name: SESSIONS_TARGET,
      keyPattern: keys.v1Pattern,
      versioning: 'relocate',
      relocation: {
        keyPattern: keys.v2Pattern,
        type: 'hash',
        keyOf: (oldKey: string, doc: Doc) => {
          if (typeof doc['userId'] !== 'string') throw new Error('userId is missing');
          return keys.v2(doc['userId'], oldKey.slice(keys.v1('').length));
        },
        oldKeyOf: (newKey: string) => {
          const parsed = keys.parseV2(newKey);
          return parsed ? keys.v1(parsed.sid) : null;
        },
        companions: (newKey: string) => {
          const { userId, sid } = keys.parseV2(newKey) as { userId: string; sid: string };
          return [
            { kind: 'set-member', key: keys.index(userId), member: sid },
            { kind: 'string', key: keys.owner(sid), value: userId },
          ];
        },
      },
    },
    from: 1,
    to: 2,
    // Contract removes the v1 keys; phase descriptions name them through removedFields.
    removedFields: [keys.v1Pattern],
    up: (doc: Doc) => {
      const problem = sessionRecordProblem(doc);
      if (problem) throw new Error(problem);
      return sessionToHash(doc as unknown as SessionRecord);
    },
    down: (doc: Doc) => ({ ...sessionFromHash(doc) }),
    verify: (doc: Doc) => sessionHashProblem(doc) ?? true,
  };
}
