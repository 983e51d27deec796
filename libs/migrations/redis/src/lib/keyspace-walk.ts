import type { Redis } from 'ioredis';
import { ItemChange, JobTarget, TargetItem, WriteOutcome } from '@zdm/migrations-core';

/** A page of keys from SCAN; `cursor` null once the walk is over. */
export interface KeyPage {
  keys: string[];
  cursor: string | null;
}

/**
 * SCANs `pattern` from `cursor` with `COUNT count`. When the pattern matches few keys, SCAN goes on
 * (up to `maxScanRounds` calls) until at least half a batch was found or the walk ended.
 */
export async function scanPage(redis: Redis, pattern: string, cursor: string | null, count: number, maxScanRounds: number): Promise<KeyPage> {
  const keys: string[] = [];
  let next = cursor ?? '0';
  for (let round = 0; round < maxScanRounds && keys.length < count / 2; round++) {
    const [cur, found] = await redis.scan(next, 'MATCH', pattern, 'COUNT', count);
    next = cur;
    for (const k of found) keys.push(k);
    if (next === '0') break;
  }
  return { keys, cursor: next === '0' ? null : next };
}

/** How one job walks a keyspace: the pieces {@link walkingJobTarget} turns into the runner's port. */
export interface KeyspaceWalk {
  scan(cursor: string | null, count: number): Promise<KeyPage>;
  /** The items behind keys SCAN returned, each once. */
  read(keys: string[]): Promise<TargetItem[]>;
  write(changes: ItemChange[]): Promise<WriteOutcome>;
  reread(ids: string[]): Promise<TargetItem[]>;
}

/** Every item of a walk, page by page. */
export async function* walkItems(walk: Pick<KeyspaceWalk, 'scan' | 'read'>, pageSize = 5000): AsyncGenerator<TargetItem[]> {
  let cursor: string | null = null;
  do {
    const page: KeyPage = await walk.scan(cursor, pageSize);
    cursor = page.cursor;
    if (page.keys.length) yield await walk.read(page.keys);
  } while (cursor !== null);
}

/** The port the core runner drives for one job; `remaining` says which items the job still has to touch. */
export function walkingJobTarget(walk: KeyspaceWalk, remaining: (item: TargetItem) => boolean): JobTarget {
  return {
    countRemaining: async () => {
      // SCAN may return a key twice; count each id once.
      const ids = new Set<string>();
      for await (const page of walkItems(walk)) for (const item of page) if (remaining(item)) ids.add(item.id);
      return ids.size;
    },
    readBatch: async (cursor, limit) => {
      const page = await walk.scan(cursor, limit);
      return { items: await walk.read(page.keys), cursor: page.cursor, done: page.cursor === null };
    },
    writeBatch: (changes) => walk.write(changes),
    reread: (ids) => walk.reread(ids),
  };
}

/** The KEYS list of one script call, and the 1-based index of each key in it (each key once). */
export function keyIndexer(): { keys: string[]; indexOf(key: string): number } {
  const keys: string[] = [];
  const index = new Map<string, number>();
  return {
    keys,
    indexOf(key) {
      let i = index.get(key);
      if (i === undefined) {
        i = keys.push(key);
        index.set(key, i);
      }
      return i;
    },
  };
}
