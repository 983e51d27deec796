import { AdaptiveThrottle, ThrottleOptions } from './adaptive-throttle';
import { Doc } from './migration.types';
import { ProgressSnapshot, ProgressTracker } from './progress';
import { Clock, systemClock } from './clock';
import { Checkpoint, ControlStore, Lease, emptyCheckpoint } from './store.contract';

/**
 * What a rollback before contract needs to put one item back exactly as it was before the
 * backfill's `up`: recorded by the adapter's undo log, handed to the job on {@link TargetItem.undo}.
 */
export interface UndoRecord {
  /** The item had no version (`_v` absent) before the backfill wrote it. */
  versionAbsent: boolean;
  /** Fields `up` added; rollback removes them. */
  added: string[];
  /** Fields `up` changed: restored to `before` only while they still hold what `up` wrote. */
  changed: { field: string; before: unknown; written: unknown }[];
  /** Fields `up` removed: restored to `before` only while still absent. */
  removed: { field: string; before: unknown }[];
}

/** One stored document or value as a runner sees it. */
export interface TargetItem {
  /** Stable id: the `_id` as a string, or the Redis key. */
  id: string;
  /** Schema version (`_v`, 1 when absent). */
  version: number;
  /** The stored content, without adapter bookkeeping the migration must not see. */
  doc: Doc;
  /** Whatever the adapter needs to compare-and-set this exact state (revision, raw value...). */
  cas: unknown;
  /** Set by the adapter when the stored value cannot be decoded (e.g. not JSON); the item is quarantined with this reason. */
  malformed?: string;
  /** Rollback jobs only: what the adapter's undo log knows about the item (absent: nothing). */
  undo?: UndoRecord;
}

/** A page read by the runner. `cursor` is where the next page starts; `done` once the walk is over. */
export interface TargetBatch {
  items: TargetItem[];
  cursor: string | null;
  done: boolean;
}

/** A change the runner wants applied to one item. */
export interface ItemChange {
  item: TargetItem;
  /** The full new content. */
  doc: Doc;
  /** The version to stamp. */
  version: number;
}

/** A write a target refused for good, and why; the runner quarantines the item. */
export interface RejectedWrite {
  id: string;
  reason: string;
}

/** What became of one {@link JobTarget.writeBatch}: every change not listed here was applied. */
export interface WriteOutcome {
  /** Items that changed since they were read: the runner reads them again and decides again. */
  conflicts: string[];
  /** Items whose write was refused for good (e.g. the server rejected it); the runner quarantines them. */
  rejected: RejectedWrite[];
}

/**
 * The port a runner drives for one data job: backfill, verify, contract or a rollback (unexpand,
 * down). The mongo adapter implements it over a collection, the redis adapter over a keyspace.
 * Each job gets its own target, which knows which items the job still has to touch.
 */
export interface JobTarget {
  /** How many items the job still has to look at (an estimate is fine). */
  countRemaining(): Promise<number>;
  /** Reads the next page after `cursor` (null: from the start). */
  readBatch(cursor: string | null, limit: number): Promise<TargetBatch>;
  /**
   * Applies each change only if the item is unchanged since read; says which were not applied
   * (conflicts) and which were refused for good (rejected). A target never quarantines anything
   * itself: the runner does. `fence`, when given, is called right before each command that writes,
   * and throws once the runner may no longer write (its lease ran out, e.g. while the process was frozen).
   */
  writeBatch(changes: ItemChange[], fence?: () => void): Promise<WriteOutcome>;
  /** Reads items again after a conflict; ids that no longer exist are left out. */
  reread(ids: string[]): Promise<TargetItem[]>;
}

/** What a job decides for one item. */
export type Step =
  | { kind: 'write'; doc: Doc; version: number }
  | { kind: 'skip' }
  | { kind: 'quarantine'; reason: string };

/** Terminal status of a run. */
export type RunStatus = 'done' | 'aborted' | 'lease-lost' | 'lease-held' | 'stopped';

/** Emitted after every batch. */
export interface BatchEvent {
  jobKey: string;
  batch: number;
  read: number;
  written: number;
  skipped: number;
  conflicts: number;
  quarantined: number;
  latencyMs: number;
  batchSize: number;
  pauseMs: number;
  progress: ProgressSnapshot;
}

/** Options for {@link runJob}. */
export interface RunJobOptions {
  /** Lease and checkpoint key, e.g. `customers.full-name:backfill`. */
  jobKey: string;
  /** Migration whose operator command (pause/resume/abort) the runner obeys. */
  migrationId: string;
  /** Job name recorded on quarantine entries: backfill, verify, contract, rollback. */
  stage: string;
  /** Who runs: host and pid, for the lease and the audit log. */
  owner: string;
  store: ControlStore;
  target: JobTarget;
  /** Decides what to do with each item. Must be pure: it may run again on the same item. */
  step: (item: TargetItem) => Step;
  throttle?: ThrottleOptions;
  /** Lease lifetime; renewed in the background every ttl/3, and before a write when less than 0.4 ttl is left. Default 15000 ms. */
  leaseTtlMs?: number;
  /** Compare-and-set retries per item within one batch. Default 5. */
  maxConflictRetries?: number;
  /** Whole passes over the target while items remain. Default 3. */
  maxPasses?: number;
  /** How often a paused runner looks for resume/abort. Default 250 ms. */
  pollMs?: number;
  /** Called after every batch. */
  onBatch?: (event: BatchEvent) => void;
  /** Stops the run between batches (status `stopped`), leaving the checkpoint for a resume. */
  signal?: AbortSignal;
  /** Time source of the lease deadline, renewals, pauses and latencies. Default: the system clock. */
  clock?: Clock;
}

/** What a run ended with. */
export interface RunResult {
  status: RunStatus;
  checkpoint: Checkpoint;
  progress: ProgressSnapshot;
  /** Fencing token the run held (0 if it never got the lease). */
  token: number;
}

class LeaseLostError extends Error {}

/**
 * Walks a target in batches under a fenced lease, applying `step` to each item with
 * compare-and-set writes, and checkpointing after every batch so a killed runner resumes where it
 * stopped. Obeys pause/resume/abort from the control store within one batch.
 */
export async function runJob(options: RunJobOptions): Promise<RunResult> {
  const { store, target, jobKey } = options;
  const ttl = options.leaseTtlMs ?? 15_000;
  const maxRetries = options.maxConflictRetries ?? 5;
  const maxPasses = options.maxPasses ?? 3;
  const pollMs = options.pollMs ?? 250;
  const throttle = new AdaptiveThrottle(options.throttle);
  const clock = options.clock ?? systemClock;
  const now = () => new Date(clock.now());

  const acquireSentAt = clock.now();
  let lease: Lease | null = await store.leases.acquire(jobKey, options.owner, ttl);
  let checkpoint = (await store.leases.readCheckpoint(jobKey)) ?? emptyCheckpoint(now());
  // The total grows by the remaining count once it is known (counted under the lease, below).
  const progress = new ProgressTracker(checkpoint.processed, checkpoint.processed, () => clock.now());
  if (!lease) return { status: 'lease-held', checkpoint, progress: progress.snapshot(), token: 0 };
  const token = lease.token;
  // Local deadline: a runner frozen past its lease (SIGSTOP, GC pause) notices before writing.
  let deadline = acquireSentAt + ttl * 0.8;

  // One lease operation at a time: on a store whose updates are not atomic (FerretDB 1.x rewrites
  // the whole record), a background renewal racing a checkpoint write could put an older checkpoint back.
  let leaseOps: Promise<unknown> = Promise.resolve();
  let leaseOpsPending = 0;
  const serially = <T>(op: () => Promise<T>): Promise<T> => {
    leaseOpsPending++;
    const run = leaseOps.then(op, op).finally(() => leaseOpsPending--);
    leaseOps = run.catch(() => undefined);
    return run;
  };
  const renew = () =>
    serially(async () => {
      // The deadline counts from when the request left: a reply that arrives after a freeze must not
      // extend a lease the store may already have given to someone else.
      const sentAt = clock.now();
      const renewed: Lease | null = await store.leases.renew(lease as Lease, ttl);
      if (!renewed) throw new LeaseLostError();
      lease = renewed;
      deadline = Math.max(deadline, sentAt + ttl * 0.8);
    });
  const assertFenced = () => {
    if (clock.now() > deadline) throw new LeaseLostError();
  };
  // A full count, one page on a store that sorts before it streams, or a long throttle pause can
  // outlast the lease: renew in the background for as long as the job runs. A frozen process renews
  // nothing, so its deadline still passes and the fence still holds. A renewal that fails for another
  // reason is tried again by the next tick, and the deadline decides.
  let lost = false;
  const stopKeepAlive = clock.every(Math.max(10, ttl / 3), () => {
    if (leaseOpsPending > 0) return;
    renew().catch((err) => {
      if (err instanceof LeaseLostError) lost = true;
    });
  });
  // The background renewal keeps the deadline at least 0.47 ttl ahead. Before a write the runner
  // renews only when less than 0.4 ttl is left (a renewal failed or came late), so a batch usually
  // costs one lease write (its checkpoint) instead of three.
  const keepLease = async () => {
    if (lost) throw new LeaseLostError();
    if (deadline - clock.now() < ttl * 0.4) await renew();
  };
  const countKeepingLease = async (): Promise<number> => {
    const remaining = await target.countRemaining();
    if (lost) throw new LeaseLostError();
    await renew();
    return remaining;
  };
  const saveCheckpoint = async (next: Checkpoint) => {
    const written = await serially(() => {
      assertFenced();
      return store.leases.writeCheckpoint(jobKey, token, next);
    });
    if (!written) throw new LeaseLostError();
    checkpoint = next;
  };
  const finish = async (status: RunStatus): Promise<RunResult> => {
    if (status !== 'lease-lost' && lease) await serially(() => store.leases.release(lease as Lease));
    return { status, checkpoint, progress: progress.snapshot(), token };
  };

  try {
    const remainingAtStart = await countKeepingLease();
    progress.grow(remainingAtStart);
    if (checkpoint.done) {
      // A finished job is started again only when there is work left; then it walks from the start.
      if (remainingAtStart === 0) return await finish('done');
      await saveCheckpoint({ ...checkpoint, cursor: null, done: false, updatedAt: now() });
    }
    let pass = 0;
    let writtenThisPass = 0;
    for (;;) {
      if (options.signal?.aborted) return await finish('stopped');
      const command = await waitWhilePaused(options, renew, () => clock.sleep(pollMs));
      if (command === 'abort') return await finish('aborted');
      if (options.signal?.aborted) return await finish('stopped');

      const started = clock.now();
      const batch = await target.readBatch(checkpoint.cursor, throttle.batchSize);
      const counts = await applyBatch(batch.items, options, maxRetries, keepLease, assertFenced);
      const latencyMs = clock.now() - started;
      throttle.observe(latencyMs);
      writtenThisPass += counts.written;

      const next: Checkpoint = {
        cursor: batch.cursor,
        processed: checkpoint.processed + batch.items.length,
        written: checkpoint.written + counts.written,
        skipped: checkpoint.skipped + counts.skipped,
        conflicts: checkpoint.conflicts + counts.conflicts,
        quarantined: checkpoint.quarantined + counts.quarantined,
        batches: checkpoint.batches + 1,
        done: false,
        updatedAt: now(),
      };
      await keepLease();
      await saveCheckpoint(next);
      progress.add(batch.items.length);
      options.onBatch?.({
        jobKey,
        batch: next.batches,
        read: batch.items.length,
        ...counts,
        latencyMs: Math.round(latencyMs * 10) / 10,
        batchSize: throttle.batchSize,
        pauseMs: throttle.pauseMs,
        progress: progress.snapshot(),
      });

      if (batch.done) {
        pass++;
        const left = await countKeepingLease();
        if (left > 0 && writtenThisPass > 0 && pass < maxPasses) {
          // Items written behind the cursor by others (or lost races) get another pass.
          progress.grow(left);
          writtenThisPass = 0;
          await saveCheckpoint({ ...checkpoint, cursor: null, updatedAt: now() });
          continue;
        }
        await saveCheckpoint({ ...checkpoint, done: true, updatedAt: now() });
        return await finish('done');
      }
      if (throttle.pauseMs > 0) await clock.sleep(throttle.pauseMs);
    }
  } catch (err) {
    if (err instanceof LeaseLostError) return { status: 'lease-lost', checkpoint, progress: progress.snapshot(), token };
    if (lease) await serially(() => store.leases.release(lease as Lease)).catch(() => undefined);
    throw err;
  } finally {
    stopKeepAlive();
  }
}

async function waitWhilePaused(options: RunJobOptions, renew: () => Promise<void>, poll: () => Promise<void>): Promise<'run' | 'abort'> {
  for (;;) {
    const state = await options.store.state.load(options.migrationId);
    const command = state?.command ?? 'run';
    if (command !== 'pause') return command;
    if (options.signal?.aborted) return 'run';
    await renew();
    await poll();
  }
}

async function applyBatch(
  items: TargetItem[],
  options: RunJobOptions,
  maxRetries: number,
  keepLease: () => Promise<void>,
  assertFenced: () => void,
) {
  const counts = { written: 0, skipped: 0, conflicts: 0, quarantined: 0 };
  const quarantine = async (docId: string, reason: string) => {
    counts.quarantined++;
    await options.store.quarantine.put({ migrationId: options.migrationId, docId, reason, stage: options.stage, at: new Date((options.clock ?? systemClock).now()) });
  };
  let pending = items;
  for (let attempt = 0; pending.length > 0; attempt++) {
    // Lease first: a runner that lost its lease must not even record quarantine entries.
    await keepLease();
    assertFenced();
    const changes: ItemChange[] = [];
    for (const item of pending) {
      const step = safeStep(options.step, item);
      if (step.kind === 'skip') counts.skipped++;
      else if (step.kind === 'quarantine') await quarantine(item.id, step.reason);
      else changes.push({ item, doc: step.doc, version: step.version });
    }
    if (changes.length === 0) break;
    assertFenced();
    const { conflicts, rejected } = await options.target.writeBatch(changes, assertFenced);
    for (const { id, reason } of rejected) await quarantine(id, reason);
    counts.written += changes.length - conflicts.length - rejected.length;
    if (conflicts.length === 0) break;
    counts.conflicts += conflicts.length;
    if (attempt >= maxRetries) break;
    // Someone wrote these since we read them: read the fresh state and decide again.
    pending = await options.target.reread(conflicts);
  }
  return counts;
}

/** Runs `step` on one item; an undecodable item or a throwing step becomes a quarantine decision. */
export function safeStep(step: RunJobOptions['step'], item: TargetItem): Step {
  if (item.malformed) return { kind: 'quarantine', reason: item.malformed };
  try {
    return step(item);
  } catch (err) {
    return { kind: 'quarantine', reason: `step threw: ${err instanceof Error ? err.message : String(err)}` };
  }
}
