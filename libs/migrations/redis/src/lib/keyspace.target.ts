import type { Redis } from 'ioredis';
import { JobTarget, Doc, ItemChange, JobKind, MigrationDefinition, TargetItem, WriteOutcome, targetOf } from '@zdm/migrations-core';
import { RedisTarget, redisTargetKind } from './redis.target';
import { CAS_BATCH } from './lua.script';
import { KeyPage, KeyspaceWalk, keyIndexer, scanPage, walkItems, walkingJobTarget } from './keyspace-walk';
import { globToRegExp, parseVersionedKey, scanPatternOf, versionedKey } from './key-naming';
import { decodeValue, encodeValue, Versioning } from './value.codec';

/** One stored key of an item, as read. `raw` is null when the key does not exist. */
export interface Slot {
  key: string;
  version: number;
  raw: Buffer | null;
  /** The decoded document, when `raw` holds a readable value. */
  doc?: Doc;
}

/** What a Redis item carries for compare-and-set: every key read, byte for byte. */
export interface RedisCas {
  slots: Slot[];
  /** The slot the item's document and TTL come from (the newest existing version). */
  primary: Slot;
}

/** Options for walking a keyspace. */
export interface KeyspaceOptions {
  /** Most SCAN calls per batch when the pattern matches few keys. Default 8. */
  maxScanRounds?: number;
}

/**
 * The keys of one migration's target and how to read and compare-and-set them.
 *
 * In `value` mode an item is one key. In `key-name` mode an item is a base key with one slot per
 * version (`from`, `to`, and any other version SCAN found); its document comes from the newest
 * existing slot, and every slot is compared on write.
 */
export class RedisKeyspace {
  readonly target: RedisTarget & { versioning: Versioning };
  private readonly scanPattern: string;
  private readonly baseMatcher: RegExp;
  private readonly maxScanRounds: number;

  constructor(
    private readonly redis: Redis,
    readonly def: MigrationDefinition,
    options: KeyspaceOptions = {},
  ) {
    const target = targetOf(def, redisTargetKind);
    if (target.versioning === 'relocate') throw new Error(`${def.id}: a relocating keyspace is read by RelocatingKeyspace`);
    this.target = { ...target, versioning: target.versioning };
    this.scanPattern = scanPatternOf(this.target.keyPattern, this.target.versioning);
    this.baseMatcher = globToRegExp(this.target.keyPattern);
    this.maxScanRounds = options.maxScanRounds ?? 8;
  }

  /** SCANs from `cursor` with `COUNT count` (see {@link scanPage}). */
  scan(cursor: string | null, count: number): Promise<KeyPage> {
    return scanPage(this.redis, this.scanPattern, cursor, count, this.maxScanRounds);
  }

  /**
   * Reads the items behind stored keys (from SCAN). Each item appears once per call. In key-name mode
   * an item has several keys, and SCAN returns each of them, so an item is read only under one key:
   * the one its job's writes leave in place, the newest for contract (which deletes the old key) and
   * the oldest otherwise (backfill adds the new key; rollback keeps or recreates the old one).
   */
  async readKeys(keys: string[], job: JobKind): Promise<TargetItem[]> {
    if (this.target.versioning === 'value') return this.readItems([...new Set(keys)].map((k) => [k, [1]]), job);
    const versions = new Map<string, number[]>();
    for (const key of keys) {
      const { base, version } = parseVersionedKey(key);
      if (!this.baseMatcher.test(base)) continue;
      versions.set(base, [...(versions.get(base) ?? []), version]);
    }
    const items = await this.readItems([...versions], job);
    return items.filter((item) => {
      const present = (item.cas as RedisCas).slots.filter((s) => s.raw !== null);
      const owner = job === 'contract' ? present[present.length - 1] : present[0];
      return !owner || versions.get(item.id)?.includes(owner.version);
    });
  }

  /** Reads items by id (the key, or the base key in key-name mode); missing ones are left out. */
  readIds(ids: string[], job: JobKind): Promise<TargetItem[]> {
    return this.readItems([...new Set(ids)].map((id) => [id, []]), job);
  }

  private slotVersions(seen: number[]): number[] {
    if (this.target.versioning === 'value') return [1];
    return [...new Set([this.def.from, this.def.to, ...seen])].sort((a, b) => a - b);
  }

  private async readItems(entries: [id: string, seenVersions: number[]][], job: JobKind): Promise<TargetItem[]> {
    const slotsById = entries.map(([id, seen]) => ({
      id,
      slots: this.slotVersions(seen).map((version): Slot => ({
        key: this.target.versioning === 'value' ? id : versionedKey(id, version),
        version,
        raw: null,
      })),
    }));
    const allSlots = slotsById.flatMap((e) => e.slots);
    if (allSlots.length === 0) return [];
    const raws = await this.redis.mgetBuffer(allSlots.map((s) => s.key));
    allSlots.forEach((s, i) => (s.raw = raws[i]));
    // MGET answers nil for keys holding another type; tell those apart from missing keys.
    const empty = slotsById.filter((e) => e.slots.every((s) => s.raw === null));
    const types = await this.typesOf(empty.flatMap((e) => e.slots.map((s) => s.key)));
    const items: TargetItem[] = [];
    for (const { id, slots } of slotsById) {
      const present = slots.filter((s) => s.raw !== null);
      if (present.length === 0) {
        const wrong = slots.find((s) => (types.get(s.key) ?? 'none') !== 'none');
        if (wrong) items.push(this.malformed(id, wrong, slots, `key ${wrong.key} holds a ${types.get(wrong.key)}, not a JSON string`));
        continue;
      }
      for (const s of present) {
        const decoded = decodeValue(s.raw as Buffer, this.target.versioning, s.version);
        if (decoded.ok) {
          s.doc = decoded.doc;
          if (this.target.versioning === 'value') s.version = decoded.version;
        } else if (s === present[present.length - 1]) {
          items.push(this.malformed(id, s, slots, decoded.reason));
        }
      }
      const primary = present[present.length - 1];
      if (!primary.doc) continue;
      items.push({ id, version: primary.version, doc: this.present(primary, slots, job), cas: { slots, primary } satisfies RedisCas });
    }
    return items;
  }

  private malformed(id: string, slot: Slot, slots: Slot[], reason: string): TargetItem {
    return { id, version: slot.version, doc: {}, cas: { slots, primary: slot } satisfies RedisCas, malformed: reason };
  }

  /**
   * The document a job sees. For contract in key-name mode, an old-version key that still exists
   * counts as old fields: the removed fields the new value lacks are shown (from the old value), so
   * the contract step rewrites the item and the write deletes the old key.
   */
  private present(primary: Slot, slots: Slot[], job: JobKind): Doc {
    const doc = primary.doc as Doc;
    if (job !== 'contract' || this.target.versioning !== 'key-name') return doc;
    const old = slots.find((s) => s.version < primary.version && s.raw !== null);
    if (!old) return doc;
    const shown: Doc = { ...doc };
    for (const f of this.def.removedFields ?? []) if (!(f in shown)) shown[f] = old.doc?.[f] ?? null;
    return shown;
  }

  private async typesOf(keys: string[]): Promise<Map<string, string>> {
    if (keys.length === 0) return new Map();
    const pipeline = this.redis.pipeline();
    for (const k of keys) pipeline.type(k);
    const replies = (await pipeline.exec()) ?? [];
    return new Map(keys.map((k, i) => [k, String(replies[i]?.[1] ?? 'none')]));
  }

  /**
   * Applies changes with one compare-and-set script call. Value mode rewrites the key in place. In
   * key-name mode the document goes to the key of its version, newer version keys are deleted
   * (rollback), and on contract the older ones too. Returns the ids whose keys changed since read.
   */
  async write(changes: ItemChange[], job: JobKind): Promise<WriteOutcome> {
    if (changes.length === 0) return { conflicts: [], rejected: [] };
    const { keys, indexOf: keyIndex } = keyIndexer();
    const args: (string | Buffer | number)[] = [];
    for (const change of changes) {
      const { slots, primary } = change.item.cas as RedisCas;
      args.push(slots.length);
      for (const s of slots) args.push(keyIndex(s.key), s.raw === null ? '0' : '1', s.raw ?? '');
      const ops = this.opsFor(change, slots, primary, job);
      args.push(ops.length);
      for (const op of ops) {
        args.push(op.kind, keyIndex(op.key), op.value ?? '', keyIndex(op.ttlFrom ?? op.key));
      }
    }
    const applied = (await CAS_BATCH.run(this.redis, keys, args)) as number[];
    return { conflicts: changes.filter((_c, i) => applied[i] !== 1).map((c) => c.item.id), rejected: [] };
  }

  private opsFor(change: ItemChange, slots: Slot[], primary: Slot, job: JobKind): { kind: 'S' | 'D'; key: string; value?: string; ttlFrom?: string }[] {
    const { versioning } = this.target;
    const value = encodeValue(change.doc, change.version, versioning);
    if (versioning === 'value') return [{ kind: 'S', key: primary.key, value, ttlFrom: primary.key }];
    const ops: { kind: 'S' | 'D'; key: string; value?: string; ttlFrom?: string }[] = [];
    const same = slots.find((s) => s.version === change.version);
    // A rollback to an old key that still holds this very document leaves its bytes and TTL alone.
    const unchanged = same?.doc !== undefined && JSON.stringify(same.doc) === JSON.stringify(change.doc);
    if (!unchanged) ops.push({ kind: 'S', key: versionedKey(change.item.id, change.version), value, ttlFrom: primary.key });
    for (const s of slots) {
      if (s.raw === null || s.version === change.version) continue;
      if (s.version > change.version || job === 'contract') ops.push({ kind: 'D', key: s.key });
    }
    return ops;
  }

  private walk(job: JobKind): KeyspaceWalk {
    return {
      scan: (cursor, count) => this.scan(cursor, count),
      read: (keys) => this.readKeys(keys, job),
      write: (changes) => this.write(changes, job),
      reread: (ids) => this.readIds(ids, job),
    };
  }

  /** Walks every item of the target, page by page. */
  items(job: JobKind, pageSize = 5000): AsyncGenerator<TargetItem[]> {
    return walkItems(this.walk(job), pageSize);
  }

  /** The port the core runner drives for one job. `remaining` says which items the job still has to touch. */
  jobTarget(job: JobKind, remaining: (item: TargetItem) => boolean): JobTarget {
    return walkingJobTarget(this.walk(job), remaining);
  }
}
