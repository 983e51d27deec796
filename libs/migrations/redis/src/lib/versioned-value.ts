import type { Redis } from 'ioredis';
import { Doc, MigrationDefinition, MigrationRegistry, targetOf } from '@zdm/migrations-core';
import { RedisTarget, redisTargetKind } from './redis.target';
import { LuaScript } from './lua.script';
import { globToRegExp, versionedKey } from './key-naming';
import { decodeValue, encodeValue, Versioning } from './value.codec';

/** Which registered keyspace a key belongs to. */
interface KeyspaceOptions {
  /** The build's registered migrations. */
  registry: MigrationRegistry;
  /** Key pattern of the chain, needed only when several registered patterns match the key. */
  keyPattern?: string;
}

/** Options for {@link versionedGet}. */
export interface VersionedGetOptions extends KeyspaceOptions {
  /** Highest version this build reads; values are upcast to it, and a newer stored value is an error. */
  readMax: number;
}

/** Options for {@link versionedSet}. */
export interface VersionedSetOptions extends KeyspaceOptions {
  /** Version to store now (flags decide it at runtime); must be one this build knows. */
  writeVersion: number;
  /**
   * Dual-write: also store the previous version. In key-name mode the old key gets `doc` minus the
   * step's `addedFields`; in value mode there is one key, so `doc` itself keeps the old fields.
   */
  writeOld?: boolean;
  /** Expiry of the written keys; without it the TTL the key already has is kept. */
  ttlMs?: number;
}

/** A value read through {@link versionedGet}. */
export interface VersionedValue<T extends Doc = Doc> {
  /** The document upcast to `readMax`. */
  doc: T;
  /** The version it is stored at. */
  storedVersion: number;
  /** The key it was read from (the versioned name in key-name mode). */
  key: string;
}

function keyspaceOf(key: string, { registry, keyPattern }: KeyspaceOptions): { target: RedisTarget & { versioning: Versioning }; chain: MigrationDefinition[] } {
  const matches = [...registry.chains()].filter(([name, chain]) => {
    const target = chain[0].target;
    return target.kind === 'redis' && (keyPattern ? name === keyPattern : globToRegExp(name).test(key));
  });
  if (matches.length !== 1) {
    const names = matches.map(([name]) => name).join(', ');
    throw new Error(matches.length ? `${key} matches several key patterns (${names}); pass keyPattern` : `no registered redis migration has a key pattern matching ${key}`);
  }
  const [, chain] = matches[0];
  const target = targetOf(chain[0], redisTargetKind);
  if (target.versioning === 'relocate') throw new Error(`${key}: ${chain[0].id} relocates its keys; read and write them where target.relocation names them`);
  return { target: { ...target, versioning: target.versioning }, chain };
}

/** Versions whose keys are looked at in key-name mode, newest first; one past `upTo` to notice newer writers. */
function knownVersions(chain: MigrationDefinition[], upTo: number): number[] {
  const top = Math.max(upTo + 1, ...chain.map((d) => d.to));
  return Array.from({ length: top }, (_v, i) => top - i);
}

/**
 * Reads a versioned value and upcasts it to `readMax` through the registered `up` chain. In key-name
 * mode `key` is the base key, and the newest version key is read first, then the older ones. A value
 * newer than `readMax`, or one that is not a JSON object, throws with the key and the reason.
 */
export async function versionedGet<T extends Doc = Doc>(redis: Redis, key: string, options: VersionedGetOptions): Promise<VersionedValue<T> | null> {
  const { target, chain } = keyspaceOf(key, options);
  const versions = target.versioning === 'value' ? [1] : knownVersions(chain, options.readMax);
  const keys = versions.map((v) => (target.versioning === 'value' ? key : versionedKey(key, v)));
  const raws = await redis.mgetBuffer(keys);
  const i = raws.findIndex((r) => r !== null);
  if (i < 0) return null;
  const decoded = decodeValue(raws[i] as Buffer, target.versioning, versions[i]);
  if (!decoded.ok) throw new Error(`${keys[i]}: ${decoded.reason}`);
  if (decoded.version > options.readMax) {
    throw new Error(`${keys[i]} holds version ${decoded.version}, but this build reads up to v${options.readMax}; a newer build wrote it`);
  }
  let doc = decoded.doc;
  for (const step of options.registry.path(target.keyPattern, decoded.version, options.readMax)) doc = step.up(doc);
  return { doc: doc as T, storedVersion: decoded.version, key: keys[i] };
}

/**
 * Sets or deletes the version keys of one item in one step. KEYS: the keys to set (ARGV[1] of them),
 * then the keys to delete. ARGV[2] is the expiry in ms, or empty to keep the remaining TTL of the
 * first existing key. ARGV[3..] are the values.
 */
const VERSIONED_SET = new LuaScript(`
local nSet = tonumber(ARGV[1])
local ttl = tonumber(ARGV[2])
if not ttl then
  ttl = -1
  for i = 1, #KEYS do
    local t = redis.call('PTTL', KEYS[i])
    if t ~= -2 then ttl = t break end
  end
end
for i = 1, nSet do
  if ttl > 0 then redis.call('SET', KEYS[i], ARGV[2 + i], 'PX', ttl) else redis.call('SET', KEYS[i], ARGV[2 + i]) end
end
for i = nSet + 1, #KEYS do redis.call('DEL', KEYS[i]) end
return nSet
`);

/**
 * Writes `doc` at `writeVersion` (with `writeOld`, also the previous version's form). In key-name
 * mode the other version keys of the item are deleted in the same step, so a stale newer or older
 * key never shadows the one just written. The TTL is kept unless `ttlMs` is given.
 */
export async function versionedSet(redis: Redis, key: string, doc: Doc, options: VersionedSetOptions): Promise<void> {
  const { target, chain } = keyspaceOf(key, options);
  const latest = Math.max(1, ...chain.map((d) => d.to));
  const { writeVersion } = options;
  if (!Number.isInteger(writeVersion) || writeVersion < 1 || writeVersion > latest) {
    throw new Error(`cannot write ${key} at version ${writeVersion}: this build knows versions 1..${latest} of ${target.keyPattern}`);
  }
  const ttl = options.ttlMs === undefined ? '' : String(Math.ceil(options.ttlMs));
  if (target.versioning === 'value') {
    await VERSIONED_SET.run(redis, [key], [1, ttl, encodeValue(doc, writeVersion, 'value')]);
    return;
  }
  const sets = new Map([[writeVersion, doc]]);
  if (options.writeOld && writeVersion > 1) {
    const step = chain.find((d) => d.to === writeVersion);
    const old: Doc = { ...doc };
    for (const f of step?.addedFields ?? []) delete old[f];
    sets.set(writeVersion - 1, old);
  }
  const dels = knownVersions(chain, writeVersion).filter((v) => !sets.has(v));
  await VERSIONED_SET.run(
    redis,
    [...[...sets.keys()].map((v) => versionedKey(key, v)), ...dels.map((v) => versionedKey(key, v))],
    [sets.size, ttl, ...[...sets].map(([v, d]) => encodeValue(d, v, 'key-name'))],
  );
}
