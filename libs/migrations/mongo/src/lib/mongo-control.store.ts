import type {
  AuditEntry,
  Checkpoint,
  ControlStore,
  InstanceHeartbeat,
  MigrationState,
  QuarantineEntry,
  SchemaSupport,
} from '@zdm/migrations-core';
import { mongo } from 'mongoose';
import { AnyIdCollection, AnyIdDocument, anyIdCollection, isDuplicateKey, once, retryWhileLocked } from './mongo-driver.util';

type Db = mongo.Db;

/** Options for {@link createMongoControlStore}. */
export interface MongoControlStoreOptions {
  /** Prefix of the control collections. Default `zdm_`. */
  prefix?: string;
  /** How long an expired heartbeat stays before a TTL index deletes it (where the server has TTL indexes). Default 1 h. */
  heartbeatRetentionMs?: number;
}

/** The collections a control store keeps, by role. */
export function controlCollectionNames(prefix = 'zdm_') {
  return {
    state: `${prefix}migrations`,
    leases: `${prefix}leases`,
    leaseEpochs: `${prefix}lease_epochs`,
    audit: `${prefix}audit`,
    quarantine: `${prefix}quarantine`,
    heartbeats: `${prefix}heartbeats`,
  };
}

const NOT_IMPLEMENTED = 238;

/**
 * A {@link ControlStore} in the service's own MongoDB database: `zdm_migrations` (state, saved
 * with compare-and-set on `revision`), `zdm_leases` (lease and fenced checkpoint per job),
 * `zdm_audit`, `zdm_quarantine` and `zdm_heartbeats`. Names chosen by users (flags, targets, audit
 * details) are stored as values, never as field names, so they may contain dots.
 *
 * Compare-and-set relies on single-document atomicity. MongoDB has it; FerretDB 1.x on SQLite
 * does not (an update reads and writes in separate steps), so leases are not taken with a
 * conditional update: each acquisition inserts an epoch record `<key>#<token>` into
 * `zdm_lease_epochs`, and a unique insert is atomic on both, so two processes racing for one
 * expired lease never both get it. An epoch record carries its lease's first expiry, so a token
 * taken by a process that died before recording it in `zdm_leases` is skipped once that expiry
 * has passed, instead of holding the lease up for ever.
 *
 * Renewals, checkpoints and releases are conditional updates of the lease record. On FerretDB 1.x
 * they read and write in separate steps, so one that read the record just before another process
 * took the lease can still write the older token back; the epoch records keep that from blocking
 * the next acquisition, but not from letting the older holder's next write through.
 */
export function createMongoControlStore(db: Db, options: MongoControlStoreOptions = {}): ControlStore {
  const names = controlCollectionNames(options.prefix);
  const states = anyIdCollection(db, names.state);
  const leases = anyIdCollection(db, names.leases);
  const epochs = anyIdCollection(db, names.leaseEpochs);
  const audit = anyIdCollection(db, names.audit);
  const quarantine = anyIdCollection(db, names.quarantine);
  const heartbeats = anyIdCollection(db, names.heartbeats);
  const retentionSec = Math.round((options.heartbeatRetentionMs ?? 3_600_000) / 1000);

  const ready = once(async () => {
    await audit.createIndex({ migrationId: 1, at: 1 }, { name: 'zdm_audit_by_migration' });
    await quarantine.createIndex({ migrationId: 1 }, { name: 'zdm_quarantine_by_migration' });
    await createExpiryIndex(heartbeats, retentionSec);
  });
  // Indexes are made before the first write; reads leave the database untouched (a dry run writes nothing).
  const write = async <T>(work: () => Promise<T>): Promise<T> => {
    await ready();
    return work();
  };
  const read = <T>(work: () => Promise<T>): Promise<T> => work();
  const quarantineId = (migrationId: string, docId: string) => `${migrationId}/${docId}`;

  return {
    state: {
      load: (id) => read(async () => toState(await states.findOne({ _id: id }))),
      save: (state, expectedRevision) =>
        write(async () => {
          const { id, ...rest } = state;
          const next = { ...rest, revision: expectedRevision + 1 };
          if (expectedRevision === 0) {
            try {
              await states.insertOne({ _id: id, ...next } as AnyIdDocument, { ignoreUndefined: true });
              return true;
            } catch (err) {
              if (isDuplicateKey(err)) return false;
              throw err;
            }
          }
          const filter = { _id: id, revision: expectedRevision };
          const { matchedCount } = await states.replaceOne(filter, next, { ignoreUndefined: true });
          return matchedCount === 1;
        }),
      list: () => read(async () => (await states.find({}).sort({ _id: 1 }).toArray()).map((d) => toState(d) as MigrationState)),
    },
    leases: {
      acquire: (key, owner, ttlMs) =>
        write(async () => {
          const now = new Date();
          const current = await leases.findOne({ _id: key });
          const holder = current?.['owner'] as string | null | undefined;
          if (holder && holder !== owner && (current?.['expiresAt'] as Date) > now) return null;
          const expiresAt = new Date(now.getTime() + ttlMs);
          // Each token is taken by inserting its epoch record: an insert of a unique _id is atomic on
          // every server (FerretDB 1.x included), so of two processes that read the same free lease
          // exactly one gets the token; the other finds the _id taken.
          for (let token = ((current?.['token'] as number | undefined) ?? 0) + 1; ; token++) {
            try {
              await retryWhileLocked(() => epochs.insertOne({ _id: `${key}#${token}`, key, owner, at: now, expiresAt }));
            } catch (err) {
              if (!isDuplicateKey(err)) throw err;
              // Taken by a process that never recorded it in the lease (killed between the two writes,
              // or its record overwritten on FerretDB): once that lease would have expired, no runner
              // holds the token, so the next one is free to take.
              if (await epochLapsed(epochs, `${key}#${token}`, now)) continue;
              return null;
            }
            await retryWhileLocked(() => leases.updateOne({ _id: key }, { $set: { owner, token, expiresAt } }, { upsert: true }));
            return { key, owner, token, expiresAt };
          }
        }),
      renew: (lease, ttlMs) =>
        write(async () => {
          const now = new Date();
          const held = { _id: lease.key, token: lease.token, owner: lease.owner, expiresAt: { $gt: now } };
          const expiresAt = new Date(now.getTime() + ttlMs);
          const { matchedCount } = await leases.updateOne(held, { $set: { expiresAt } });
          return matchedCount === 1 ? { ...lease, expiresAt } : null;
        }),
      release: (lease) =>
        write(async () => {
          const held = { _id: lease.key, token: lease.token };
          await leases.updateOne(held, { $set: { owner: null, expiresAt: new Date(0) } });
        }),
      readCheckpoint: (key) =>
        read(async () => {
          const doc = await leases.findOne({ _id: key }, { projection: { checkpoint: 1 } });
          return (doc?.['checkpoint'] as Checkpoint | undefined) ?? null;
        }),
      writeCheckpoint: (key, token, checkpoint) =>
        write(async () => {
          const held = { _id: key, token, owner: { $type: 'string' } };
          const { matchedCount } = await leases.updateOne(held, { $set: { checkpoint } });
          return matchedCount === 1;
        }),
      resetCheckpoint: (key) =>
        write(async () => {
          await leases.updateOne({ _id: key }, { $unset: { checkpoint: '' } });
        }),
    },
    audit: {
      append: (entry) =>
        write(async () => {
          const { details, ...rest } = entry;
          const stored = details === undefined ? rest : { ...rest, details: mongo.BSON.EJSON.stringify(details, { relaxed: true }) };
          await audit.insertOne(stored, { ignoreUndefined: true });
        }),
      list: (migrationId, limit = 1000) =>
        read(async () => {
          const newestFirst = await audit.find({ migrationId }).sort({ at: -1, _id: -1 }).limit(limit).toArray();
          return newestFirst.reverse().map(toAuditEntry);
        }),
    },
    quarantine: {
      put: (entry) =>
        write(async () => {
          const _id = quarantineId(entry.migrationId, entry.docId);
          await upsertById(quarantine, _id, { ...entry });
        }),
      list: (migrationId) =>
        read(async () => (await quarantine.find({ migrationId }).sort({ at: 1, _id: 1 }).toArray()).map(toQuarantineEntry)),
      remove: (migrationId, docId) =>
        write(async () => {
          await quarantine.deleteOne({ _id: quarantineId(migrationId, docId) });
        }),
      count: (migrationId) => read(() => quarantine.countDocuments({ migrationId })),
    },
    heartbeats: {
      beat: (hb, ttlMs) =>
        write(async () => {
          await upsertById(heartbeats, hb.instanceId, {
            service: hb.service,
            instanceId: hb.instanceId,
            build: hb.build,
            schemas: Object.entries(hb.schemas).map(([target, s]) => ({ target, readMin: s.readMin, readMax: s.readMax, writes: s.writes })),
            flags: Object.entries(hb.flags).map(([name, on]) => ({ name, on })),
            facts: hb.facts ? Object.entries(hb.facts).map(([name, values]) => ({ name, values: [...values] })) : undefined,
            at: hb.at,
            expiresAt: new Date(hb.at.getTime() + ttlMs),
          });
        }),
      remove: (instanceId) =>
        write(async () => {
          await heartbeats.deleteOne({ _id: instanceId });
        }),
      live: (now = new Date()) =>
        read(async () => (await heartbeats.find({ expiresAt: { $gt: now } }).sort({ _id: 1 }).toArray()).map(toHeartbeat)),
    },
  };
}

/**
 * Whether the epoch record `id` holds a lease that has expired by `now`. Records written before
 * epochs carried their expiry count as live, so such a token is never skipped.
 */
async function epochLapsed(epochs: AnyIdCollection, id: string, now: Date): Promise<boolean> {
  const expiresAt = (await epochs.findOne({ _id: id }))?.['expiresAt'];
  return expiresAt instanceof Date && expiresAt <= now;
}

/** Replaces the document with this `_id`, creating it if needed (one retry when a concurrent upsert wins). */
async function upsertById(collection: AnyIdCollection, id: string, doc: Omit<AnyIdDocument, '_id'>): Promise<void> {
  const filter = { _id: id };
  try {
    await collection.replaceOne(filter, doc, { upsert: true, ignoreUndefined: true });
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    await collection.replaceOne(filter, doc, { upsert: true, ignoreUndefined: true });
  }
}

/** A TTL index on `expiresAt`; a plain one where the server has no TTL indexes (FerretDB 1.x). */
async function createExpiryIndex(collection: AnyIdCollection, retentionSec: number): Promise<void> {
  try {
    await collection.createIndex({ expiresAt: 1 }, { name: 'zdm_expiry', expireAfterSeconds: retentionSec });
  } catch (err) {
    if ((err as { code?: number }).code !== NOT_IMPLEMENTED) throw err;
    await collection.createIndex({ expiresAt: 1 }, { name: 'zdm_expiry' });
  }
}

function toState(doc: AnyIdDocument | null): MigrationState | null {
  if (!doc) return null;
  const { _id, ...rest } = doc;
  return { id: _id as string, ...rest } as MigrationState;
}

function toAuditEntry(doc: Omit<AnyIdDocument, '_id'>): AuditEntry {
  const { _id, details, ...rest } = doc;
  const entry = rest as AuditEntry;
  return typeof details === 'string' ? { ...entry, details: mongo.BSON.EJSON.parse(details, { relaxed: true }) as Record<string, unknown> } : entry;
}

function toQuarantineEntry(doc: Omit<AnyIdDocument, '_id'>): QuarantineEntry {
  const { _id, ...rest } = doc;
  return rest as QuarantineEntry;
}

function toHeartbeat(doc: Omit<AnyIdDocument, '_id'>): InstanceHeartbeat {
  const schemas: Record<string, SchemaSupport> = {};
  for (const s of doc['schemas'] as { target: string; readMin: number; readMax: number; writes: number }[]) {
    schemas[s.target] = { readMin: s.readMin, readMax: s.readMax, writes: s.writes };
  }
  const flags: Record<string, boolean> = {};
  for (const f of doc['flags'] as { name: string; on: boolean }[]) flags[f.name] = f.on;
  const hb: InstanceHeartbeat = { service: doc['service'], instanceId: doc['instanceId'], build: doc['build'], schemas, flags, at: doc['at'] };
  const facts = doc['facts'] as { name: string; values: string[] }[] | undefined;
  if (Array.isArray(facts)) hb.facts = Object.fromEntries(facts.map((f) => [f.name, f.values]));
  return hb;
}
