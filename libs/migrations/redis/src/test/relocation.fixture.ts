import type Redis from 'ioredis';
import { Doc, MigrationDefinition } from '@zdm/migrations-core';
import { RedisTarget } from '../lib/redis.target';

/** v1 of the fixture: `<prefix>s:<id>` holds `{ owner, n, tags }` as a JSON string. */
export interface TokenV1 {
  owner: string;
  n: number;
  tags: string[];
}

const OWNER_OF_MOVED = /^(.*)m:\{([^}]*)\}:(.*)$/;

/** Keys of the fixture: v1 `s:<id>`, v2 `m:{<owner>}:<id>` (a hash), an index set per owner and a pointer per id. */
export const relocatedKeys = (prefix: string) => ({
  old: (id: string | number) => `${prefix}s:${id}`,
  moved: (owner: string, id: string | number) => `${prefix}m:{${owner}}:${id}`,
  index: (owner: string) => `${prefix}ix:{${owner}}`,
  pointer: (id: string | number) => `${prefix}own:${id}`,
});

/**
 * The fixture migration: every `s:<id>` JSON string moves to the hash `m:{<owner>}:<id>`
 * (numbers and lists become strings), joins its owner's index set, and gets a pointer id -> owner.
 */
export function relocationMigration(prefix: string, options: { reversible?: boolean } = {}): MigrationDefinition {
  const keys = relocatedKeys(prefix);
  const idOf = (oldKey: string) => oldKey.slice(keys.old('').length);
  const target: RedisTarget = {
    kind: 'redis',
    name: 'tokens',
    keyPattern: `${prefix}s:*`,
    versioning: 'relocate',
    relocation: {
      keyPattern: `${prefix}m:{*}:*`,
      type: 'hash',
      keyOf: (oldKey, doc) => {
        if (typeof doc['owner'] !== 'string' || !doc['owner']) throw new Error('owner is missing');
        return keys.moved(doc['owner'], idOf(oldKey));
      },
      oldKeyOf: (newKey) => {
        const m = OWNER_OF_MOVED.exec(newKey);
        return m && m[1] === prefix ? keys.old(m[3]) : null;
      },
      companions: (newKey, doc) => {
        const m = OWNER_OF_MOVED.exec(newKey) as RegExpExecArray;
        return [
          { kind: 'set-member', key: keys.index(String(doc['owner'])), member: m[3] },
          { kind: 'string', key: keys.pointer(m[3]), value: String(doc['owner']) },
        ];
      },
    },
  };
  return {
    id: 'tokens.relocate',
    description: 'tokens: s:<id> JSON -> m:{<owner>}:<id> hash + index + pointer',
    service: 'tokens',
    target,
    from: 1,
    to: 2,
    // What contract removes is the old key: phase descriptions name it through removedFields.
    removedFields: [target.keyPattern],
    up: (doc: Doc) => {
      if (typeof doc['owner'] !== 'string') throw new Error('owner is missing');
      if (!Array.isArray(doc['tags'])) throw new Error('tags is not a list');
      return { owner: doc['owner'], n: String(doc['n']), tags: (doc['tags'] as string[]).join(' ') };
    },
    ...(options.reversible === false
      ? {}
      : { down: (doc: Doc) => ({ owner: doc['owner'], n: Number(doc['n']), tags: String(doc['tags']).split(' ').filter(Boolean) }) }),
    verify: (doc: Doc) => (/^[0-9]+$/.test(String(doc['n'])) ? true : `n is ${JSON.stringify(doc['n'])}`),
  };
}

export const tokenV1 = (i: number): TokenV1 => ({ owner: `u${i % 17}`, n: i, tags: [`t${i % 3}`, 'x'] });

/**
 * Stores `count` v1 tokens as JSON strings: every 170th (all owned by u0) without expiry, the
 * others expiring in 300..600 s. Returns each key's absolute expiry in ms (-1 without expiry), as
 * the server holds it once seeded (read back with PTTL).
 */
export async function seedTokens(redis: Redis, prefix: string, count: number): Promise<Map<string, number>> {
  const keys = Array.from({ length: count }, (_v, i) => relocatedKeys(prefix).old(i));
  const pipeline = redis.pipeline();
  keys.forEach((key, i) => {
    if (i % 170 === 0) pipeline.set(key, JSON.stringify(tokenV1(i)));
    else pipeline.set(key, JSON.stringify(tokenV1(i)), 'PX', 300_000 + ((i * 7919) % 300_000));
  });
  await pipeline.exec();
  const pttls = (await redis.pipeline(keys.map((k) => ['pttl', k])).exec()) ?? [];
  const now = Date.now();
  return new Map(keys.map((k, i) => [k, Number(pttls[i]?.[1]) === -1 ? -1 : now + Number(pttls[i]?.[1])]));
}

/** The largest distance (ms) between each key's expiry now and `expiries` (a key without expiry must stay without; a missing one counts as Infinity). */
export async function maxExpiryDelta(redis: Redis, expiries: Map<string, number>): Promise<number> {
  const keys = [...expiries.keys()];
  const replies = (await redis.pipeline(keys.map((k) => ['pttl', k])).exec()) ?? [];
  const now = Date.now();
  let max = 0;
  keys.forEach((k, i) => {
    const pttl = Number(replies[i]?.[1]);
    const expected = expiries.get(k) as number;
    const delta = expected === -1 ? (pttl === -1 ? 0 : Infinity) : pttl > 0 ? Math.abs(now + pttl - expected) : Infinity;
    max = Math.max(max, delta);
  });
  return max;
}
