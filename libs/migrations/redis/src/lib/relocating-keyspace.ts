import { isUtf8 } from 'node:buffer';
import type { Redis } from 'ioredis';
import { Doc, ItemChange, JobKind, JobTarget, MigrationDefinition, Step, TargetItem, WriteOutcome, targetOf } from '@zdm/migrations-core';
import { Companion, KeyRelocation, RedisTarget, redisTargetKind } from './redis.target';
import { LuaScript } from './lua.script';
import { KeyspaceWalk, keyIndexer, scanPage, walkItems, walkingJobTarget } from './keyspace-walk';
import { decodeValue } from './value.codec';

/** What one key held when it was read: nothing, a string (its bytes) or a hash (its fields). */
export type KeyState =
  | { type: 'none' }
  | { type: 'string'; raw: Buffer }
  | { type: 'hash'; fields: Record<string, string>; notUtf8?: string }
  | { type: 'other'; name: string };

/** What a relocated item carries for compare-and-set: both of its keys as read. */
export interface RelocatedCas {
  oldKey: string;
  old: KeyState;
  /** The key at `to`; null when the old value does not name it (the item is then malformed). */
  newKey: string | null;
  new: KeyState;
  /** The document at `from`, when the old key holds a readable one. */
  oldDoc?: Doc;
}

/** True for an item at `to` whose key at `from` is still there (what contract deletes). */
export function oldKeyLeft(def: MigrationDefinition, item: TargetItem): boolean {
  const cas = item.cas as Partial<RelocatedCas> | undefined;
  return !item.malformed && item.version >= def.to && cas?.old?.type === 'string' && 'newKey' in cas;
}

/** A document as the fields of a hash; every value must be a string, or the write is refused. */
export function hashFieldsOf(doc: Doc): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const [field, value] of Object.entries(doc)) {
    if (typeof value !== 'string') throw new Error(`field ${field} is ${value === null ? 'null' : typeof value}, but a hash holds strings only`);
    fields[field] = value;
  }
  return fields;
}

/**
 * Compare-and-set of relocated items, a batch per round trip.
 *
 * KEYS: every key the batch touches. ARGV, per item:
 *   nChecks, then nChecks x (keyIndex, '0' absent | 'S' string | 'H' hash, expected bytes | JSON of the fields),
 *   nOps,    then nOps    x (op, keyIndex, value, ttlSourceKeyIndex).
 * Ops: 'S' set a string, 'H' replace a hash (value: JSON of its fields), 'D' delete, 'A' add the
 * member `value` to a set, 'R' remove it. 'S' and 'H' take the remaining PTTL of the source key
 * (none when it has none); 'A' keeps the set alive at least that long (and without expiry when the
 * source has none). Sources are read when the op runs, so sets and adds come before deletes.
 * Returns one integer per item: 1 applied, 0 conflict.
 */
const RELOCATE_BATCH = new LuaScript(`
local function holds(key, mode, expected)
  local t = redis.call('TYPE', key)['ok']
  if mode == '0' then return t == 'none' end
  if mode == 'S' then return t == 'string' and redis.call('GET', key) == expected end
  if t ~= 'hash' then return false end
  local want = cjson.decode(expected)
  local flat = redis.call('HGETALL', key)
  local n = 0
  for _ in pairs(want) do n = n + 1 end
  if #flat ~= 2 * n then return false end
  for i = 1, #flat, 2 do
    if want[flat[i]] ~= flat[i + 1] then return false end
  end
  return true
end
local out = {}
local a = 1
while a <= #ARGV do
  local ok = true
  local nChecks = tonumber(ARGV[a])
  a = a + 1
  for _ = 1, nChecks do
    if ok then ok = holds(KEYS[tonumber(ARGV[a])], ARGV[a + 1], ARGV[a + 2]) end
    a = a + 3
  end
  local nOps = tonumber(ARGV[a])
  a = a + 1
  if ok then
    for i = 0, nOps - 1 do
      local b = a + i * 4
      local op = ARGV[b]
      local key = KEYS[tonumber(ARGV[b + 1])]
      local value = ARGV[b + 2]
      local ttl = redis.call('PTTL', KEYS[tonumber(ARGV[b + 3])])
      if op == 'S' then
        if ttl > 0 then redis.call('SET', key, value, 'PX', ttl) else redis.call('SET', key, value) end
      elseif op == 'H' then
        redis.call('DEL', key)
        local flat = {}
        for f, v in pairs(cjson.decode(value)) do flat[#flat + 1] = f flat[#flat + 1] = v end
        if #flat > 0 then redis.call('HSET', key, unpack(flat)) end
        if ttl > 0 then redis.call('PEXPIRE', key, ttl) end
      elseif op == 'A' then
        local cur = redis.call('PTTL', key)
        redis.call('SADD', key, value)
        if ttl == -1 then redis.call('PERSIST', key)
        elseif ttl > 0 and (cur == -2 or (cur >= 0 and cur < ttl)) then redis.call('PEXPIRE', key, ttl) end
      elseif op == 'R' then
        redis.call('SREM', key, value)
      else
        redis.call('DEL', key)
      end
    end
  end
  a = a + nOps * 4
  out[#out + 1] = ok and 1 or 0
end
return out
`);

type Op = { op: 'S' | 'H' | 'D' | 'A' | 'R'; key: string; value?: string; ttlFrom?: string };

/**
 * The keys of a `relocate` migration: each item is a JSON string under `keyPattern` at `from`,
 * moved to `relocation.keyOf(...)` (a hash or a JSON string) at `to`, with its companions (index
 * set members, pointers). Backfill, contract and the gate counts walk the old keys (an item there
 * is at `to` once its new key exists); verify and the rollbacks walk the new keys. An item's id is
 * the key it was found under. Every write compares both keys with what was read.
 */
export class RelocatingKeyspace {
  readonly target: RedisTarget;
  readonly relocation: KeyRelocation;
  private readonly maxScanRounds: number;

  constructor(
    private readonly redis: Redis,
    readonly def: MigrationDefinition,
    options: { maxScanRounds?: number } = {},
  ) {
    this.target = targetOf(def, redisTargetKind);
    if (!this.target.relocation) throw new Error(`${def.id}: target.relocation is required with versioning "relocate"`);
    this.relocation = this.target.relocation;
    this.maxScanRounds = options.maxScanRounds ?? 8;
  }

  /** Which keys a job walks: the old ones for backfill and contract, the moved ones for verify and rollbacks. */
  private patternFor(job: JobKind): string {
    return job === 'backfill' || job === 'contract' ? this.target.keyPattern : this.relocation.keyPattern;
  }

  /**
   * What each key holds, read in one MULTI so the keys of a batch (both keys of an item) are one
   * snapshot: TYPE, then GET and HGETALL (the one that does not fit the type answers WRONGTYPE).
   */
  private async states(keys: string[]): Promise<KeyState[]> {
    if (keys.length === 0) return [];
    const tx = this.redis.multi();
    for (const k of keys) tx.type(k).getBuffer(k).hgetallBuffer(k);
    const replies = (await tx.exec()) ?? [];
    return keys.map((_k, i): KeyState => {
      const type = String(replies[3 * i]?.[1] ?? 'none');
      if (type === 'none') return { type };
      if (type === 'string') return { type, raw: replies[3 * i + 1]?.[1] as Buffer };
      if (type !== 'hash') return { type: 'other', name: type };
      const fields: Record<string, string> = {};
      let notUtf8: string | undefined;
      for (const [f, v] of Object.entries(replies[3 * i + 2]?.[1] as Record<string, Buffer>)) {
        if (!isUtf8(v)) notUtf8 ??= f;
        fields[f] = v.toString('utf8');
      }
      return notUtf8 === undefined ? { type, fields } : { type, fields, notUtf8 };
    });
  }

  /** Decodes the value at `to`, or says why it cannot be read. */
  private decodeNew(state: KeyState): { doc: Doc } | { reason: string } {
    const want = this.relocation.type;
    if (state.type !== want) return { reason: `holds a ${state.type === 'other' ? state.name : state.type}, not a ${want === 'hash' ? 'hash' : 'JSON string'}` };
    if (state.type === 'hash') return state.notUtf8 === undefined ? { doc: { ...state.fields } } : { reason: `field ${state.notUtf8} is not valid UTF-8` };
    const decoded = decodeValue((state as { raw: Buffer }).raw, 'key-name', this.def.to);
    return decoded.ok ? { doc: decoded.doc } : { reason: decoded.reason };
  }

  /** Reads items found under their old keys. */
  private async readOld(oldKeys: string[]): Promise<TargetItem[]> {
    const olds = await this.states(oldKeys);
    const cases = oldKeys.map((oldKey, i): { item?: TargetItem; cas: RelocatedCas } => {
      const old = olds[i];
      const cas: RelocatedCas = { oldKey, old, newKey: null, new: { type: 'none' } };
      if (old.type === 'none') return { cas };
      const malformed = (reason: string): TargetItem => ({ id: oldKey, version: this.def.from, doc: {}, cas, malformed: reason });
      if (old.type !== 'string') return { cas, item: malformed(`key ${oldKey} holds a ${old.type === 'other' ? old.name : old.type}, not a JSON string`) };
      const decoded = decodeValue(old.raw, 'key-name', this.def.from);
      if (!decoded.ok) return { cas, item: malformed(decoded.reason) };
      cas.oldDoc = decoded.doc;
      try {
        cas.newKey = this.relocation.keyOf(oldKey, decoded.doc);
      } catch (err) {
        return { cas, item: malformed(`its new key cannot be named: ${(err as Error).message}`) };
      }
      return { cas };
    });
    const named = cases.filter((c) => !c.item && c.cas.newKey !== null);
    const news = await this.states(named.map((c) => c.cas.newKey as string));
    named.forEach((c, i) => (c.cas.new = news[i]));
    const items: TargetItem[] = [];
    for (const { item, cas } of cases) {
      if (item) items.push(item);
      else if (cas.oldDoc) items.push(this.itemOf(cas.oldKey, cas));
    }
    return items;
  }

  /**
   * Reads items found under their new keys. For verify, an item whose old key is still there must
   * hold what `up` makes of it: copies that disagree are reported (the item is quarantined).
   */
  private async readNew(newKeys: string[], job?: JobKind): Promise<TargetItem[]> {
    const pairs = newKeys.flatMap((newKey) => {
      const oldKey = this.relocation.oldKeyOf(newKey);
      return oldKey === null ? [] : [{ newKey, oldKey }];
    });
    const states = await this.states(pairs.flatMap((p) => [p.newKey, p.oldKey]));
    const items: TargetItem[] = [];
    pairs.forEach(({ newKey, oldKey }, i) => {
      const cas: RelocatedCas = { oldKey, old: states[2 * i + 1], newKey, new: states[2 * i] };
      if (cas.new.type === 'none') return;
      if (cas.old.type === 'string') {
        const decoded = decodeValue(cas.old.raw, 'key-name', this.def.from);
        if (decoded.ok) cas.oldDoc = decoded.doc;
      }
      const item = this.itemOf(newKey, cas);
      const disagreement = job === 'verify' && !item.malformed && cas.oldDoc ? this.disagreement(cas.oldDoc, item.doc) : null;
      items.push(disagreement ? { ...item, malformed: disagreement } : item);
    });
    return items;
  }

  /** Why the copy at `to` is not what `up` makes of the copy at `from`, or null when it is. */
  private disagreement(oldDoc: Doc, newDoc: Doc): string | null {
    let expected: Doc;
    try {
      expected = this.def.up(oldDoc);
    } catch (err) {
      return `the v${this.def.from} copy cannot be upcast: ${(err as Error).message}`;
    }
    const a = stableJson(expected);
    const b = stableJson(newDoc);
    return a === b ? null : `the v${this.def.from} and v${this.def.to} copies disagree: up(v${this.def.from}) is ${a}, v${this.def.to} holds ${b}`;
  }

  private itemOf(id: string, cas: RelocatedCas): TargetItem {
    if (cas.new.type === 'none') return { id, version: this.def.from, doc: cas.oldDoc as Doc, cas };
    const decoded = this.decodeNew(cas.new);
    if ('reason' in decoded) return { id, version: this.def.to, doc: {}, cas, malformed: `key ${cas.newKey} ${decoded.reason}` };
    return { id, version: this.def.to, doc: decoded.doc, cas };
  }

  /** Reads items by id: a moved key is read from there, any other id as an old key. Missing ones are left out. */
  async readIds(ids: string[]): Promise<TargetItem[]> {
    const unique = [...new Set(ids)];
    const moved = unique.filter((id) => this.relocation.oldKeyOf(id) !== null);
    const old = unique.filter((id) => this.relocation.oldKeyOf(id) === null);
    return [...(await this.readOld(old)), ...(await this.readNew(moved))];
  }

  private readKeys(keys: string[], job: JobKind): Promise<TargetItem[]> {
    const unique = [...new Set(keys)];
    return this.patternFor(job) === this.target.keyPattern ? this.readOld(unique) : this.readNew(unique, job);
  }

  /** Applies changes with one compare-and-set script call; returns the ids whose keys changed since read. */
  async write(changes: ItemChange[], job: JobKind): Promise<WriteOutcome> {
    const rejected: { id: string; reason: string }[] = [];
    const { keys, indexOf: keyIndex } = keyIndexer();
    const args: (string | Buffer | number)[] = [];
    const sent: ItemChange[] = [];
    for (const change of changes) {
      let ops: Op[];
      try {
        ops = this.opsFor(change, job);
      } catch (err) {
        rejected.push({ id: change.item.id, reason: (err as Error).message });
        continue;
      }
      const cas = change.item.cas as RelocatedCas;
      const checks: [string, KeyState][] = [[cas.oldKey, cas.old], ...(cas.newKey ? ([[cas.newKey, cas.new]] as [string, KeyState][]) : [])];
      args.push(checks.length);
      for (const [key, state] of checks) {
        if (state.type === 'other') throw new Error(`${key} holds a ${state.name}; such an item is never written`);
        args.push(keyIndex(key), state.type === 'none' ? '0' : state.type === 'string' ? 'S' : 'H', state.type === 'string' ? state.raw : state.type === 'hash' ? JSON.stringify(state.fields) : '');
      }
      args.push(ops.length);
      for (const op of ops) args.push(op.op, keyIndex(op.key), op.value ?? '', keyIndex(op.ttlFrom ?? op.key));
      sent.push(change);
    }
    if (sent.length === 0) return { conflicts: [], rejected };
    const applied = (await RELOCATE_BATCH.run(this.redis, keys, args)) as number[];
    return { conflicts: sent.filter((_c, i) => applied[i] !== 1).map((c) => c.item.id), rejected };
  }

  private encodeNew(doc: Doc): { op: 'S' | 'H'; value: string } {
    return this.relocation.type === 'hash' ? { op: 'H', value: JSON.stringify(hashFieldsOf(doc)) } : { op: 'S', value: JSON.stringify(doc) };
  }

  private companionsOf(newKey: string, doc: Doc): Companion[] {
    return this.relocation.companions?.(newKey, doc) ?? [];
  }

  private opsFor(change: ItemChange, job: JobKind): Op[] {
    const cas = change.item.cas as RelocatedCas;
    const same = (a: Doc | undefined, b: Doc) => a !== undefined && JSON.stringify(a) === JSON.stringify(b);
    if (change.version >= this.def.to) {
      if (!cas.newKey) throw new Error(`no key at v${this.def.to} is known for ${change.item.id}`);
      const newKey = cas.newKey;
      const ops: Op[] = [];
      const current = cas.new.type === 'none' ? undefined : change.item.version >= this.def.to ? change.item.doc : undefined;
      if (!same(current, change.doc)) ops.push({ ...this.encodeNew(change.doc), key: newKey, ttlFrom: cas.old.type === 'string' ? cas.oldKey : newKey });
      for (const c of this.companionsOf(newKey, change.doc)) {
        ops.push(c.kind === 'set-member' ? { op: 'A', key: c.key, value: c.member, ttlFrom: newKey } : { op: 'S', key: c.key, value: c.value, ttlFrom: newKey });
      }
      if (job === 'contract' && cas.old.type === 'string') ops.push({ op: 'D', key: cas.oldKey });
      return ops;
    }
    // Back to `from`: the old key gets the document (left as it is when it already holds it), the moved key and its companions go.
    const ops: Op[] = [];
    if (!same(cas.oldDoc, change.doc)) ops.push({ op: 'S', key: cas.oldKey, value: JSON.stringify(change.doc), ttlFrom: cas.newKey ?? cas.oldKey });
    if (cas.newKey && cas.new.type !== 'none') {
      const movedDoc = this.decodeNew(cas.new);
      for (const c of 'doc' in movedDoc ? this.companionsOf(cas.newKey, movedDoc.doc) : []) {
        ops.push(c.kind === 'set-member' ? { op: 'R', key: c.key, value: c.member } : { op: 'D', key: c.key });
      }
      ops.push({ op: 'D', key: cas.newKey });
    }
    return ops;
  }

  private walk(job: JobKind): KeyspaceWalk {
    return {
      scan: (cursor, count) => scanPage(this.redis, this.patternFor(job), cursor, count, this.maxScanRounds),
      read: (keys) => this.readKeys(keys, job),
      write: (changes) => this.write(changes, job),
      reread: (ids) => this.readIds(ids),
    };
  }

  /** Walks every item of the target as `job` sees it, page by page. */
  items(job: JobKind, pageSize = 5000): AsyncGenerator<TargetItem[]> {
    return walkItems(this.walk(job), pageSize);
  }

  /** The port the core runner drives for one job. */
  jobTarget(job: JobKind, remaining: (item: TargetItem) => boolean): JobTarget {
    return walkingJobTarget(this.walk(job), remaining);
  }
}

function stableJson(doc: Doc): string {
  return JSON.stringify(Object.fromEntries(Object.entries(doc).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
}

/** Contract of a relocated item: its old key goes (the write keeps the moved value as it is). */
export function relocateContractStep(def: MigrationDefinition): (item: TargetItem) => Step {
  return (item) => {
    if (item.version < def.to) return { kind: 'quarantine', reason: `at version ${item.version} during contract; backfill it first` };
    return oldKeyLeft(def, item) ? { kind: 'write', doc: item.doc, version: item.version } : { kind: 'skip' };
  };
}

/**
 * Rollback before contract of a relocated item: the old key, which writers kept writing, is kept
 * byte for byte and only the moved key (with its companions) goes; without an old key, `down`
 * writes it back (an irreversible migration quarantines the item, naming why).
 */
export function relocateUnexpandStep(def: MigrationDefinition): (item: TargetItem) => Step {
  return (item) => {
    if (item.version < def.to) return { kind: 'skip' };
    const oldDoc = (item.cas as RelocatedCas).oldDoc;
    if (oldDoc) return { kind: 'write', doc: oldDoc, version: def.from };
    if (!def.down) return { kind: 'quarantine', reason: `no key at v${def.from} is left and ${def.id} has no down()` };
    try {
      return { kind: 'write', doc: def.down(item.doc), version: def.from };
    } catch (err) {
      return { kind: 'quarantine', reason: `down threw: ${(err as Error).message}` };
    }
  };
}
