import { InstanceHeartbeat } from './migration.types';
import { Phase } from './phases';
import { VerifyReport } from './gates';

/** Operator command a runner obeys at its next batch. */
export type RunnerCommand = 'run' | 'pause' | 'abort';

/** The persisted state of one migration. `revision` makes every save a compare-and-set. */
export interface MigrationState {
  id: string;
  phase: Phase;
  /** Grows by one on every save. */
  revision: number;
  /** Checksum of the definition when the migration started. */
  checksum: string;
  /** Operator command for runners of this migration. */
  command: RunnerCommand;
  /** Set once a backfill pass has walked the whole target. */
  backfillDoneAt?: Date | null;
  /** Last verify pass. */
  verify?: VerifyReport | null;
  updatedAt: Date;
}

/** Phase and command storage; `save` succeeds only if the stored revision still equals `expectedRevision`. */
export interface StateStore {
  load(id: string): Promise<MigrationState | null>;
  /** Writes `state` with `revision = expectedRevision + 1`. Returns false if someone else saved first. */
  save(state: MigrationState, expectedRevision: number): Promise<boolean>;
  list(): Promise<MigrationState[]>;
}

/** A lease held by one runner. `token` grows by one on every acquisition (fencing token). */
export interface Lease {
  key: string;
  owner: string;
  token: number;
  expiresAt: Date;
}

/** Where a runner stopped, plus its counters. Written after every batch, conditional on the lease token. */
export interface Checkpoint {
  /** Adapter-specific cursor: last `_id` for MongoDB, SCAN cursor for Redis; null = from the start. */
  cursor: string | null;
  processed: number;
  written: number;
  skipped: number;
  conflicts: number;
  quarantined: number;
  batches: number;
  done: boolean;
  updatedAt: Date;
}

/** One runner per job: leases with expiry and fencing, and fenced checkpoints. */
export interface LeaseStore {
  /** Takes the lease if free or expired, bumping the token; null if someone else holds it. */
  acquire(key: string, owner: string, ttlMs: number): Promise<Lease | null>;
  /** Extends a lease still held with this token; null if it was lost. */
  renew(lease: Lease, ttlMs: number): Promise<Lease | null>;
  /** Gives the lease up (only if still held with this token). */
  release(lease: Lease): Promise<void>;
  readCheckpoint(key: string): Promise<Checkpoint | null>;
  /** Writes the checkpoint only if `token` is still the current lease token. */
  writeCheckpoint(key: string, token: number, checkpoint: Checkpoint): Promise<boolean>;
  /** Forgets the checkpoint so a job starts again from the beginning. */
  resetCheckpoint(key: string): Promise<void>;
}

/** An entry in the append-only audit log. */
export interface AuditEntry {
  migrationId: string;
  at: Date;
  actor: string;
  action: string;
  reason: string;
  details?: Record<string, unknown>;
}

export interface AuditLog {
  append(entry: AuditEntry): Promise<void>;
  /** Newest last. */
  list(migrationId: string, limit?: number): Promise<AuditEntry[]>;
}

/** A document that could not be migrated or verified; it blocks the phase until fixed and re-run. */
export interface QuarantineEntry {
  migrationId: string;
  docId: string;
  reason: string;
  /** Job that found it: backfill, verify, contract, rollback. */
  stage: string;
  at: Date;
}

export interface QuarantineStore {
  /** Records (or refreshes) the entry for this document. */
  put(entry: QuarantineEntry): Promise<void>;
  list(migrationId: string): Promise<QuarantineEntry[]>;
  remove(migrationId: string, docId: string): Promise<void>;
  count(migrationId: string): Promise<number>;
}

export interface HeartbeatStore {
  /** Upserts the instance's heartbeat; it is live for `ttlMs` after `hb.at`. */
  beat(hb: InstanceHeartbeat, ttlMs: number): Promise<void>;
  remove(instanceId: string): Promise<void>;
  /** Heartbeats not yet expired at `now`. */
  live(now?: Date): Promise<InstanceHeartbeat[]>;
}

/** Everything a service keeps about its migrations, in its own database. */
export interface ControlStore {
  state: StateStore;
  leases: LeaseStore;
  audit: AuditLog;
  quarantine: QuarantineStore;
  heartbeats: HeartbeatStore;
}

export function emptyCheckpoint(now = new Date()): Checkpoint {
  return { cursor: null, processed: 0, written: 0, skipped: 0, conflicts: 0, quarantined: 0, batches: 0, done: false, updatedAt: now };
}
