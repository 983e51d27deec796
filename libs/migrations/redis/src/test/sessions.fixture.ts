import type Redis from 'ioredis';
import { MigrationDefinition } from '@zdm/migrations-core';
import { CustomerV1, fullNameMigration } from '@zdm/migrations-core/testing';

/** v1 session: split name; `up` adds `fullName` and keeps the old fields until contract. */
export type SessionV1 = CustomerV1;

/** The fixture migration over `<prefix>s:*`: the shared full-name migration, on a Redis keyspace. */
export function sessionMigration(prefix: string, versioning: 'value' | 'key-name', options: { reversible?: boolean } = {}): MigrationDefinition {
  return fullNameMigration({
    id: 'sessions.full-name',
    description: 'sessions: firstName + lastName -> fullName',
    service: 'sessions',
    target: { kind: 'redis', keyPattern: `${prefix}s:*`, versioning },
    ...(options.reversible === false ? { down: undefined } : {}),
  });
}

export const sessionKey = (prefix: string, i: number) => `${prefix}s:${i}`;
export const sessionV1 = (i: number): SessionV1 => ({ firstName: `f${i}`, lastName: `l${i}` });

/**
 * Stores `count` v1 sessions as JSON strings. Every tenth key has no expiry, the others expire in
 * 300..600 s. Returns each key's absolute expiry in ms (-1 without expiry), as the server holds it
 * once seeded (read back with PTTL: on a loaded machine a pipeline reaches the server seconds after
 * it was built).
 */
export async function seedSessions(redis: Redis, prefix: string, count: number): Promise<Map<string, number>> {
  const expiries = new Map<string, number>();
  for (let start = 0; start < count; start += 5000) {
    const pipeline = redis.pipeline();
    const keys: string[] = [];
    for (let i = start; i < Math.min(count, start + 5000); i++) {
      const key = sessionKey(prefix, i);
      const value = JSON.stringify(sessionV1(i));
      keys.push(key);
      if (i % 10 === 0) pipeline.set(key, value);
      else pipeline.set(key, value, 'PX', 300_000 + ((i * 7919) % 300_000));
    }
    await pipeline.exec();
    const pttls = (await redis.pipeline(keys.map((k) => ['pttl', k])).exec()) ?? [];
    const now = Date.now();
    keys.forEach((k, i) => {
      const pttl = Number(pttls[i]?.[1]);
      expiries.set(k, pttl === -1 ? -1 : now + pttl);
    });
  }
  return expiries;
}

/** Keys whose expiry moved by more than `toleranceMs` (or was added or dropped), with what was found. */
export async function expiryDrift(redis: Redis, expiries: Map<string, number>, toleranceMs: number): Promise<string[]> {
  const keys = [...expiries.keys()];
  const bad: string[] = [];
  for (let start = 0; start < keys.length; start += 5000) {
    const chunk = keys.slice(start, start + 5000);
    const pipeline = redis.pipeline();
    for (const k of chunk) pipeline.pttl(k);
    const now = Date.now();
    const replies = (await pipeline.exec()) ?? [];
    chunk.forEach((k, i) => {
      const pttl = Number(replies[i]?.[1]);
      const expected = expiries.get(k) as number;
      const ok = expected === -1 ? pttl === -1 : pttl > 0 && Math.abs(now + pttl - expected) <= toleranceMs;
      if (!ok) bad.push(`${k}: pttl ${pttl}, expected ${expected === -1 ? 'none' : expected - now}`);
    });
  }
  return bad;
}
