import {
  AuditEntry,
  Checkpoint,
  ControlStore,
  Lease,
  MigrationState,
  QuarantineEntry,
} from './store.contract';
import { Clock, systemClock } from './clock';
import { InstanceHeartbeat } from './migration.types';

const clone = <T>(v: T): T => structuredClone(v);

/** Options of {@link createInMemoryControlStore}. */
export interface InMemoryControlStoreOptions {
  /** Time source of lease expiries and of `heartbeats.live()` without an instant. Default: the system clock. */
  clock?: Clock;
}

/**
 * A control store held in process memory: for unit tests, dry runs and single-process tools.
 * It follows the same compare-and-set and fencing rules as the database-backed stores.
 */
export function createInMemoryControlStore(options: InMemoryControlStoreOptions = {}): ControlStore {
  const clock = options.clock ?? systemClock;
  const states = new Map<string, MigrationState>();
  const leases = new Map<string, Lease>();
  const tokens = new Map<string, number>();
  const checkpoints = new Map<string, Checkpoint>();
  const audit: AuditEntry[] = [];
  const quarantine = new Map<string, QuarantineEntry>();
  const heartbeats = new Map<string, { hb: InstanceHeartbeat; expiresAt: number }>();

  return {
    state: {
      async load(id) {
        const s = states.get(id);
        return s ? clone(s) : null;
      },
      async save(state, expectedRevision) {
        const current = states.get(state.id);
        if ((current?.revision ?? 0) !== expectedRevision) return false;
        states.set(state.id, clone({ ...state, revision: expectedRevision + 1 }));
        return true;
      },
      async list() {
        return [...states.values()].map(clone);
      },
    },
    leases: {
      async acquire(key, owner, ttlMs) {
        const now = clock.now();
        const held = leases.get(key);
        if (held && held.expiresAt.getTime() > now && held.owner !== owner) return null;
        const token = (tokens.get(key) ?? 0) + 1;
        tokens.set(key, token);
        const lease = { key, owner, token, expiresAt: new Date(now + ttlMs) };
        leases.set(key, lease);
        return { ...lease };
      },
      async renew(lease, ttlMs) {
        const held = leases.get(lease.key);
        const now = clock.now();
        if (!held || held.token !== lease.token || held.expiresAt.getTime() <= now) return null;
        held.expiresAt = new Date(now + ttlMs);
        return { ...held };
      },
      async release(lease) {
        const held = leases.get(lease.key);
        if (held && held.token === lease.token) leases.delete(lease.key);
      },
      async readCheckpoint(key) {
        const c = checkpoints.get(key);
        return c ? clone(c) : null;
      },
      async writeCheckpoint(key, token, checkpoint) {
        const held = leases.get(key);
        if (!held || held.token !== token) return false;
        checkpoints.set(key, clone(checkpoint));
        return true;
      },
      async resetCheckpoint(key) {
        checkpoints.delete(key);
      },
    },
    audit: {
      async append(entry) {
        audit.push(clone(entry));
      },
      async list(migrationId, limit = 1000) {
        return audit.filter((e) => e.migrationId === migrationId).slice(-limit).map(clone);
      },
    },
    quarantine: {
      async put(entry) {
        quarantine.set(`${entry.migrationId}\u0000${entry.docId}`, clone(entry));
      },
      async list(migrationId) {
        return [...quarantine.values()].filter((e) => e.migrationId === migrationId).map(clone);
      },
      async remove(migrationId, docId) {
        quarantine.delete(`${migrationId}\u0000${docId}`);
      },
      async count(migrationId) {
        return [...quarantine.values()].filter((e) => e.migrationId === migrationId).length;
      },
    },
    heartbeats: {
      async beat(hb, ttlMs) {
        heartbeats.set(hb.instanceId, { hb: clone(hb), expiresAt: hb.at.getTime() + ttlMs });
      },
      async remove(instanceId) {
        heartbeats.delete(instanceId);
      },
      async live(now = new Date(clock.now())) {
        return [...heartbeats.values()].filter((h) => h.expiresAt > now.getTime()).map((h) => clone(h.hb));
      },
    },
  };
}
