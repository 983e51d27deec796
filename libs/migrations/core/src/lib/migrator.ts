import { hostname } from 'node:os';
import { ThrottleOptions } from './adaptive-throttle';
import { Clock } from './clock';
import { JobTarget, BatchEvent, RunResult, Step, TargetItem, runJob, safeStep } from './backfill-runner';
import { DataCounts, VerifyReport } from './gates';
import { backfillStep, contractStep, downStep, roundTripCheck, RoundTripReport, unexpandStep, verifyFailure, verifyStep } from './job-steps';
import { Actor, FlagAdmin, PhaseMachine, MigrationStatus } from './phase-machine';
import { MigrationRegistry } from './migration-registry';
import { Doc, MigrationDefinition, isLazyAdditive, lazyOnlyOf, strategyOf } from './migration.types';
import { JobKind, isJobKind } from './jobs';
import { Phase, describePhase, flagChanges, isPastContract, phasesOf } from './phases';
import { ServiceSchemas } from './service-schema';
import { ControlStore, Lease, QuarantineEntry } from './store.contract';
import { applyPatch, DocumentPatch, PatchedPath } from './document-patch';

/**
 * What a store adapter (mongo, redis) provides. Small on purpose: the runner, the phases and the
 * gates live in core; an adapter only knows how to read, compare-and-set and count its data.
 */
export interface MigrationBackend {
  /** Control records, kept in the same database as the data. */
  readonly store: ControlStore;
  /** Data counts for the gates. */
  counts(def: MigrationDefinition): Promise<DataCounts>;
  /** The items a job walks, with compare-and-set writes. */
  target(def: MigrationDefinition, job: JobKind): JobTarget;
  /** Up to `size` items at version `from`, for round-trip checks and rate estimates. */
  sample(def: MigrationDefinition, size: number): Promise<{ id: string; doc: Doc }[]>;
  /** Optional: the `unexpand` job's step (rollback before contract) restoring the exact pre-migration item; default: core's `unexpandStep`, which drops the added fields. */
  unexpandStep?(def: MigrationDefinition): (item: TargetItem) => Step;
  /** Optional: the `contract` job's step, for stores where what contract removes is not fields (e.g. an old key beside a moved one); default: core's `contractStep`. */
  contractStep?(def: MigrationDefinition): (item: TargetItem) => Step;
  /**
   * Optional: drops what only a rollback needs (the undo records); resolves how many records went.
   * Called once a migration is complete, and after a rollback has restored the data.
   */
  clearUndo?(migrationId: string): Promise<number>;
}

/** Options for {@link Migrator}. */
export interface MigratorOptions {
  registry: MigrationRegistry;
  backend: MigrationBackend;
  /** Changes flags on phase changes; without it flags are only recorded in the audit log. */
  flags?: FlagAdmin;
  throttle?: ThrottleOptions;
  leaseTtlMs?: number;
  /** Fewest live instances a gate requires. Default 1. */
  minInstances?: number;
  /** Runner identity for leases; default `host:pid`. */
  owner?: string;
  /** Time source of the runners' leases, renewals and pauses. Default: the system clock. */
  clock?: Clock;
  /** How the gates of a migration's `requires` ask other services (e.g. `HttpServiceSchemas`). */
  schemas?: ServiceSchemas;
}

/** One migration in a dry-run plan. */
export interface PlanEntry {
  id: string;
  description: string;
  strategy: string;
  currentPhase: Phase;
  affected: number;
  total: number;
  phases: { phase: Phase; does: string; flags: Record<string, boolean> }[];
  /** Items per second measured on a sample (read + up(), no writes). */
  sampleRatePerSec: number;
  /** Estimated seconds for the backfill at the sampled rate (writes included by a factor). */
  estimatedBackfillSec: number;
  reversible: boolean;
}

/** Options of {@link Migrator.expireLazy}. */
export interface LazyExpireOptions {
  /** The deadline users were given: refused until it has passed. */
  before: Date;
  /** Count what would be expired; write nothing, audit nothing. */
  dryRun?: boolean;
  /** Now, for the deadline check. Default: the system clock. */
  now?: Date;
  /** Documents read and written per batch. Default 100. */
  batchSize?: number;
}

/** What {@link Migrator.expireLazy} did (or, in a dry run, would do). */
export interface LazyExpireResult {
  dryRun: boolean;
  /** Documents expired (dry run: that would be). */
  expired: number;
  /** Their ids, the first {@link EXPIRED_IDS_KEPT}. */
  ids: string[];
  /** Documents upgraded by the service while the command ran (left as they were). */
  upgradedMeanwhile: number;
  /** Documents the hook could not expire, with the reason (left as they were). */
  refused: { id: string; reason: string }[];
  /** Documents still below `to` afterwards. */
  remaining: number;
}

/** How many expired ids a result and its audit entry keep. */
export const EXPIRED_IDS_KEPT = 100;

/** Options for running one job. */
export interface RunOptions {
  onBatch?: (event: BatchEvent) => void;
  signal?: AbortSignal;
  actor?: Actor;
}

/** Ties the registry, a store adapter and the phase state machine into the operations the orchestrator and the CLI use. */
/** Thrown when an operation that writes as a job finds the job's lease held by a runner. */
export class JobLeaseHeldError extends Error {
  constructor(
    readonly migrationId: string,
    readonly job: string,
    detail = 'a runner holds its lease; run this again once the job has ended',
  ) {
    super(`${migrationId} ${job}: ${detail}`);
    this.name = 'JobLeaseHeldError';
  }
}

export class Migrator {
  readonly phaseMachine: PhaseMachine;
  readonly owner: string;

  constructor(private readonly options: MigratorOptions) {
    this.owner = options.owner ?? `${hostname()}:${process.pid}`;
    this.phaseMachine = new PhaseMachine({
      registry: options.registry,
      store: options.backend.store,
      probe: { counts: (def) => options.backend.counts(def) },
      flags: options.flags,
      minInstances: options.minInstances,
      schemas: options.schemas,
    });
  }

  get registry(): MigrationRegistry {
    return this.options.registry;
  }

  get store(): ControlStore {
    return this.options.backend.store;
  }

  /** The flag admin phase changes go through; undefined when flags are only recorded. */
  get flags(): FlagAdmin | undefined {
    return this.options.flags;
  }

  status(id: string): Promise<MigrationStatus> {
    return this.phaseMachine.status(id);
  }

  /** Moves to the next phase if its gates pass; on complete, the undo records are dropped. */
  async advance(id: string, who: Actor): Promise<Phase> {
    const phase = await this.phaseMachine.advance(id, who);
    if (phase === 'complete') await this.clearUndo(id, who);
    return phase;
  }

  /**
   * Drops a migration's undo records once nothing reads them again: a complete migration, or one
   * whose rollback has put the data back. (A rollback during contract still reads them, to leave
   * `_v` absent where it was.) A failure leaves them (harmless, only space) and
   * is put in the audit log instead of failing the phase change that already happened.
   */
  private async clearUndo(id: string, who: Actor): Promise<void> {
    const { backend } = this.options;
    if (!backend.clearUndo) return;
    const at = new Date();
    try {
      const records = await backend.clearUndo(id);
      if (records > 0) await this.store.audit.append({ migrationId: id, at, actor: who.actor, action: 'undo-cleared', reason: who.reason, details: { records } });
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      await this.store.audit.append({ migrationId: id, at, actor: who.actor, action: 'undo-clear-failed', reason: who.reason, details: { error } }).catch(() => undefined);
    }
  }

  /** Dry run: counts, phases with their flag changes, and a duration estimate. Writes nothing. */
  async plan(ids?: string[]): Promise<PlanEntry[]> {
    const defs = ids?.length ? ids.map((id) => this.registry.get(id)) : [...this.registry.all()];
    const entries: PlanEntry[] = [];
    for (const def of defs) {
      const state = await this.store.state.load(def.id);
      const counts = await this.options.backend.counts(def);
      const total = await this.options.backend.target(def, 'verify').countRemaining();
      const started = performance.now();
      const sample = await this.options.backend.sample(def, 200);
      const step = backfillStep(def);
      for (const s of sample) step({ id: s.id, version: def.from, doc: s.doc, cas: null });
      const secs = Math.max((performance.now() - started) / 1000, 1e-6);
      const rate = sample.length ? sample.length / secs : 0;
      const path = phasesOf(def);
      const lazy = isLazyAdditive(def);
      const lazyOnly = lazyOnlyOf(def);
      entries.push({
        id: def.id,
        description: def.description,
        strategy: lazy ? 'additive (read-time default, no backfill)' : lazyOnly ? `lazy-only (no backfill: upgraded ${lazyOnly.upgradedWhen})` : strategyOf(def).kind,
        currentPhase: state?.phase ?? 'pending',
        affected: lazy ? 0 : counts.belowTarget,
        total,
        phases: path.slice(1).map((phase, i) => ({ phase, does: describePhase(def, phase), flags: flagChanges(def, path[i], phase) })),
        sampleRatePerSec: Math.round(rate),
        // A write costs more than a read; the sample only reads, so assume writes halve the rate.
        estimatedBackfillSec: rate > 0 && !lazy && !lazyOnly ? Math.ceil(counts.belowTarget / (rate / 2)) : 0,
        reversible: !!def.down,
      });
    }
    return entries;
  }

  /** Runs one data job under a lease, resuming from its checkpoint. */
  async run(id: string, job: JobKind, options: RunOptions = {}): Promise<RunResult> {
    const def = this.registry.get(id);
    if (job === 'backfill' && lazyOnlyOf(def)) throw new Error(`${id} is lazy-only: it cannot be backfilled`);
    const result = await runJob({
      jobKey: `${id}:${job}`,
      migrationId: id,
      stage: job,
      owner: this.owner,
      store: this.store,
      target: this.options.backend.target(def, job),
      step: this.stepFor(def, job),
      throttle: this.options.throttle,
      leaseTtlMs: this.options.leaseTtlMs,
      clock: this.options.clock,
      onBatch: options.onBatch,
      signal: options.signal,
    });
    const who = options.actor ?? { actor: this.owner, reason: `${job} job` };
    if (result.status === 'done' && job === 'backfill') await this.phaseMachine.recordBackfillDone(id, who);
    return result;
  }

  /**
   * Full verify pass: every item must be at `to` and satisfy `verify`. Failures are quarantined.
   * Also runs the `down(up(doc))` round trip on a sample when one is available.
   */
  async verify(id: string, options: RunOptions & { shadowMismatches?: number } = {}): Promise<{ report: VerifyReport; roundTrip: RoundTripReport; result: RunResult }> {
    const def = this.registry.get(id);
    await this.store.leases.resetCheckpoint(`${id}:verify`);
    const result = await this.run(id, 'verify', options);
    const report: VerifyReport = {
      at: new Date(),
      checked: result.checkpoint.processed,
      mismatches: result.checkpoint.quarantined,
      shadowMismatches: options.shadowMismatches ?? 0,
    };
    if (result.status === 'done') {
      await this.phaseMachine.recordVerify(id, report, options.actor ?? { actor: this.owner, reason: 'verify pass' });
    }
    const roundTrip = roundTripCheck(def, await this.options.backend.sample(def, 50));
    return { report, roundTrip, result };
  }

  /**
   * Rolls back. Before contract the flags go back first (old fields are intact, so old readers are
   * safe at once) and the migration is marked rolled back, then the data is restored; if that job
   * does not finish, `run(id, 'unexpand')` resumes it. After contract `down()` runs over the data
   * first, then the flags go back. An irreversible migration past contract is refused with the reason.
   */
  async rollback(id: string, who: Actor, options: RunOptions = {}): Promise<RunResult | null> {
    const def = this.registry.get(id);
    const state = await this.phaseMachine.state(id);
    this.phaseMachine.assertCanRollBack(def, state.phase);
    if (state.phase === 'pending') {
      await this.phaseMachine.markRolledBack(id, who);
      return null;
    }
    await this.store.audit.append({ migrationId: id, at: new Date(), actor: who.actor, action: 'rollback-start', reason: who.reason, details: { phase: state.phase } });
    const pastContract = isPastContract(state.phase);
    // Before contract: flags back first (this also sets the runners' command back to run).
    if (!pastContract) await this.phaseMachine.markRolledBack(id, who);
    // A rollback is an explicit order: an earlier pause or abort must not hold up its job.
    else if (state.command !== 'run') await this.phaseMachine.command(id, 'run', who);
    const job: JobKind = pastContract ? 'down' : 'unexpand';
    await this.store.leases.resetCheckpoint(`${id}:${job}`);
    const result = await this.run(id, job, { ...options, actor: who });
    if (pastContract && result.status === 'done') await this.phaseMachine.markRolledBack(id, who);
    if (result.status === 'done') await this.clearUndo(id, who);
    return result;
  }

  pause(id: string, who: Actor) {
    return this.phaseMachine.command(id, 'pause', who);
  }

  resume(id: string, who: Actor) {
    return this.phaseMachine.command(id, 'run', who);
  }

  abort(id: string, who: Actor) {
    return this.phaseMachine.command(id, 'abort', who);
  }

  quarantined(id: string): Promise<QuarantineEntry[]> {
    return this.store.quarantine.list(id);
  }

  /**
   * Re-runs the job that quarantined each document (after someone fixed it). Entries whose document
   * now migrates (or is gone) are removed; the others stay with a fresh reason.
   */
  async retryQuarantined(id: string, who: Actor, docIds?: readonly string[]): Promise<{ fixed: string[]; still: QuarantineEntry[] }> {
    const def = this.registry.get(id);
    const entries = (await this.store.quarantine.list(id)).filter((e) => !docIds || docIds.includes(e.docId));
    const groups = [...groupBy(entries, (e) => e.stage)].map(([stage, group]) => ({ stage, group, job: (isJobKind(stage) ? stage : 'backfill') as JobKind }));
    // The retry writes as the job that quarantined each document would, so it holds that job's
    // lease while it does: a live runner of the job keeps its lease (and its claims) untouched.
    const leases = await this.takeJobLeases(id, [...new Set(groups.map((g) => g.job))]);
    const fixed: string[] = [];
    try {
      for (const { stage, group, job } of groups) {
        const target = this.options.backend.target(def, job);
        const step = this.stepFor(def, job);
        const items = await target.reread(group.map((e) => e.docId));
        const found = new Set(items.map((i) => i.id));
        for (const e of group) if (!found.has(e.docId)) fixed.push(e.docId);
        for (const item of items) {
          const s = safeStep(step, item);
          if (s.kind === 'quarantine') {
            await this.store.quarantine.put({ migrationId: id, docId: item.id, reason: s.reason, stage, at: new Date() });
            continue;
          }
          if (s.kind === 'write') {
            const { conflicts, rejected } = await target.writeBatch([{ item, doc: s.doc, version: s.version }], leases.fence);
            for (const r of rejected) await this.store.quarantine.put({ migrationId: id, docId: r.id, reason: r.reason, stage, at: new Date() });
            if (conflicts.length || rejected.length) continue;
          }
          fixed.push(item.id);
        }
      }
    } finally {
      await leases.release();
    }
    for (const docId of fixed) await this.store.quarantine.remove(id, docId);
    await this.store.audit.append({ migrationId: id, at: new Date(), actor: who.actor, action: 'quarantine-retry', reason: who.reason, details: { fixed: fixed.length } });
    return { fixed, still: await this.store.quarantine.list(id) };
  }

  /**
   * The fix path of a quarantined document whose data is wrong (a price of 19.999 EUR): sets the
   * fields at `patch.set` (dotted paths, array indices included: `lines.0.unitPrice`) to the
   * operator's values and removes those at `patch.unset`, with a compare-and-set write at the
   * document's version while holding the lease of the job that quarantined it; appends a
   * `quarantine-patch` audit entry with the actor, the reason and every path's value before and
   * after; then re-runs the document as `retryQuarantined` does. Throws, writing nothing, when the
   * document is not quarantined by `id`, a path is not patchable, or the document changed meanwhile.
   */
  async patchQuarantined(id: string, docId: string, patch: DocumentPatch, who: Actor): Promise<{ changes: PatchedPath[]; fixed: string[]; still: QuarantineEntry[] }> {
    const def = this.registry.get(id);
    const entry = (await this.store.quarantine.list(id)).find((e) => e.docId === docId);
    if (!entry) throw new Error(`document ${docId} is not quarantined by ${id}; see zdm quarantine list ${id}`);
    const job = (isJobKind(entry.stage) ? entry.stage : 'backfill') as JobKind;
    const leases = await this.takeJobLeases(id, [job]);
    let changes: PatchedPath[];
    try {
      // The verify job's target writes with the runner's compare-and-set and keeps no undo record:
      // the patch is the operator's correction of the data, not a step of the migration.
      const target = this.options.backend.target(def, 'verify');
      const [item] = await target.reread([docId]);
      if (!item) throw new Error(`document ${docId} no longer exists; zdm quarantine retry ${id} clears its entry`);
      const patched = applyPatch(item.doc, patch);
      changes = patched.changes;
      const { conflicts, rejected } = await target.writeBatch([{ item, doc: patched.doc, version: item.version }], leases.fence);
      if (rejected.length) throw new Error(`document ${docId} was not patched: ${rejected[0].reason}`);
      if (conflicts.length) throw new Error(`document ${docId} changed while it was being patched; nothing was written, run the patch again`);
      await this.store.audit.append({
        migrationId: id,
        at: new Date(),
        actor: who.actor,
        action: 'quarantine-patch',
        reason: who.reason,
        // Values as JSON text: the control store keeps no nested arrays (FerretDB 1.x).
        details: { docId, changes: changes.map((c) => ({ path: c.path, before: JSON.stringify(c.before) ?? 'undefined', after: JSON.stringify(c.after) ?? 'undefined' })) },
      });
    } finally {
      await leases.release();
    }
    return { changes, ...(await this.retryQuarantined(id, who, [docId])) };
  }

  /**
   * The end of a lazy-only migration: once the deadline users were given (`before`) has passed,
   * every document still below `to` is one nobody upgraded by it, and the strategy's `expire` hook
   * replaces it with its expired form at `to` (e.g. a user who must reset the password; the
   * document is kept). Runs in the `backfill` phase, when every live instance writes `to`, holding
   * the backfill job's lease (a lazy-only migration has no runner) and writing with the runner's
   * compare-and-set: a document the service upgrades meanwhile is re-read and left alone. A
   * document whose expired form fails `verify` is left as it is and reported. Appends a
   * `lazy-expire` audit entry (actor, reason, deadline, count, the first ids) unless `dryRun`.
   */
  async expireLazy(id: string, options: LazyExpireOptions, who: Actor): Promise<LazyExpireResult> {
    const def = this.registry.get(id);
    const lazyOnly = lazyOnlyOf(def);
    if (!lazyOnly) throw new Error(`${id} is not lazy-only (strategy ${strategyOf(def).kind}); only a lazy-only migration expires documents`);
    const expire = lazyOnly.expire;
    if (!expire) throw new Error(`${id} declares no expire hook (strategy.expire), so its documents cannot be expired`);
    const before = options.before;
    const now = options.now ?? new Date();
    if (Number.isNaN(before.getTime())) throw new Error('the deadline is not a valid date');
    if (before.getTime() > now.getTime()) throw new Error(`the deadline ${before.toISOString()} has not passed yet (now ${now.toISOString()}); users may still upgrade`);
    const { phase } = await this.phaseMachine.state(id);
    if (phase !== 'backfill') throw new Error(`${id} expires documents in phase backfill (every live instance writes v${def.to}), but it is in ${phase}`);

    const target = this.options.backend.target(def, 'backfill');
    const result: LazyExpireResult = { dryRun: !!options.dryRun, expired: 0, ids: [], upgradedMeanwhile: 0, refused: [], remaining: 0 };
    const decide = (item: TargetItem): Doc | null => {
      if (item.version >= def.to) {
        result.upgradedMeanwhile++;
        return null;
      }
      if (item.malformed) {
        result.refused.push({ id: item.id, reason: item.malformed });
        return null;
      }
      let next: Doc;
      try {
        next = expire(item.doc);
      } catch (err) {
        result.refused.push({ id: item.id, reason: `expire threw: ${err instanceof Error ? err.message : String(err)}` });
        return null;
      }
      const failed = verifyFailure(def, next);
      if (failed) result.refused.push({ id: item.id, reason: failed });
      return failed ? null : next;
    };
    const counted = (itemId: string) => {
      result.expired++;
      if (result.ids.length < EXPIRED_IDS_KEPT) result.ids.push(itemId);
    };
    const leases = options.dryRun ? null : await this.takeJobLeases(id, ['backfill']);
    try {
      for (let cursor: string | null = null, done = false; !done; ) {
        // Each batch starts with a fresh lease lifetime, so expiring many documents outlasts one lease.
        await leases?.renew();
        const batch = await target.readBatch(cursor, options.batchSize ?? 100);
        ({ cursor, done } = batch);
        let items = batch.items;
        for (let attempt = 0; items.length && attempt < 5; attempt++) {
          const changes = items.flatMap((item) => {
            const doc = decide(item);
            return doc ? [{ item, doc, version: def.to }] : [];
          });
          if (options.dryRun || !leases) {
            changes.forEach((c) => counted(c.item.id));
            break;
          }
          const { conflicts, rejected } = changes.length ? await target.writeBatch(changes, leases.fence) : { conflicts: [], rejected: [] };
          for (const r of rejected) result.refused.push(r);
          const notWritten = new Set([...conflicts, ...rejected.map((r) => r.id)]);
          for (const c of changes) if (!notWritten.has(c.item.id)) counted(c.item.id);
          items = conflicts.length ? await target.reread(conflicts) : [];
        }
      }
    } finally {
      await leases?.release();
    }
    result.remaining = (await this.options.backend.counts(def)).belowTarget;
    if (!options.dryRun) {
      await this.store.audit.append({
        migrationId: id,
        at: new Date(),
        actor: who.actor,
        action: 'lazy-expire',
        reason: who.reason,
        details: { before: before.toISOString(), expired: result.expired, ids: result.ids, upgradedMeanwhile: result.upgradedMeanwhile, refused: result.refused.length, remaining: result.remaining },
      });
    }
    return result;
  }

  /**
   * Takes the leases of these jobs of `id`, or none: when a runner holds one, gives back those
   * already taken and throws {@link JobLeaseHeldError}. `fence` throws once the leases may have
   * run out (0.8 of their lifetime after they were asked for).
   */
  private async takeJobLeases(id: string, jobs: JobKind[]): Promise<{ fence: () => void; renew: () => Promise<void>; release: () => Promise<void> }> {
    const ttl = this.options.leaseTtlMs ?? 15_000;
    let askedAt = performance.now();
    const held: Lease[] = [];
    const release = async () => {
      for (const lease of held.splice(0)) await this.store.leases.release(lease);
    };
    for (const job of jobs) {
      const lease = await this.store.leases.acquire(`${id}:${job}`, this.owner, ttl);
      if (!lease) {
        await release();
        throw new JobLeaseHeldError(id, job);
      }
      held.push(lease);
    }
    return {
      release,
      // Extends every lease for another ttl (a long operation, batch by batch); throws when one was lost.
      renew: async () => {
        const renewedAt = performance.now();
        for (const [i, lease] of held.entries()) {
          const renewed = await this.store.leases.renew(lease, ttl);
          if (!renewed) throw new JobLeaseHeldError(id, jobs.join(', '), 'its lease was lost (taken over after it expired); run it again');
          held[i] = renewed;
        }
        askedAt = renewedAt;
      },
      fence: () => {
        if (performance.now() > askedAt + ttl * 0.8) throw new JobLeaseHeldError(id, jobs.join(', '), 'its lease ran out while it wrote; run it again');
      },
    };
  }

  private stepFor(def: MigrationDefinition, job: JobKind): (item: TargetItem) => Step {
    switch (job) {
      case 'backfill':
        return backfillStep(def);
      case 'verify':
        return verifyStep(def);
      case 'contract':
        return this.options.backend.contractStep?.(def) ?? contractStep(def);
      case 'down':
        return downStep(def);
      case 'unexpand':
        return this.options.backend.unexpandStep?.(def) ?? unexpandStep(def);
    }
  }
}

function groupBy<T>(list: T[], key: (t: T) => string): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const item of list) map.set(key(item), [...(map.get(key(item)) ?? []), item]);
  return map;
}
