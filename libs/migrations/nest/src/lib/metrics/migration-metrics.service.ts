import { BatchEvent, MigrationRegistry, Phase, phaseCode } from '@zdm/migrations-core';
import { Counter, Gauge, Registry, register as defaultRegistry } from 'prom-client';

/** Options of {@link MigrationMetrics}. */
export interface MigrationMetricsOptions {
  /** Where the metrics are registered. Default: prom-client's default registry. */
  registry?: Registry;
  /** Turns upcast events that name only a target and versions into migration ids. */
  migrations?: MigrationRegistry;
}

/**
 * A lazy upcast seen by a store plugin (e.g. the mongoose plugin's `onUpcast`): a document read
 * at `from` and upcast in memory to `to`. Name the migration, or the target and let the registry
 * find the steps.
 */
export interface UpcastEvent {
  from: number;
  to: number;
  migrationId?: string;
  /** Target name (collection or key pattern). */
  target?: string;
  /** Collection name; read when `target` is absent. */
  collection?: string;
  /** Documents upcast at once. Default 1. */
  count?: number;
}

/** Reads the current phase per migration id, e.g. from the control store. */
export type PhaseReader = () => Promise<Record<string, Phase>>;

type Job = 'migration' | 'job';

/** The metric objects of one prom-client registry; shared by every MigrationMetrics on it. */
class MetricSet {
  readonly phaseReaders = new Set<PhaseReader>();
  readonly processed: Counter<Job>;
  readonly rate: Gauge<Job>;
  readonly remaining: Gauge<Job>;
  readonly quarantined: Counter<Job>;
  readonly lazyUpcasts: Counter<'migration'>;
  readonly verifyMismatches: Counter<'migration' | 'source'>;
  readonly phase: Gauge<'migration'>;

  constructor(registry: Registry) {
    const registers = [registry];
    const perJob = ['migration', 'job'] as const;
    this.processed = new Counter({ name: 'zdm_migration_docs_processed_total', help: 'Documents or keys a migration job has looked at.', labelNames: perJob, registers });
    this.rate = new Gauge({ name: 'zdm_migration_docs_per_second', help: 'Smoothed rate of a migration job, items per second.', labelNames: perJob, registers });
    this.remaining = new Gauge({ name: 'zdm_migration_docs_remaining', help: 'Items a migration job still has to look at.', labelNames: perJob, registers });
    this.quarantined = new Counter({ name: 'zdm_migration_quarantined_total', help: 'Quarantine decisions of a migration job (a document found bad again on a later pass counts again).', labelNames: perJob, registers });
    this.lazyUpcasts = new Counter({ name: 'zdm_migration_lazy_upcasts_total', help: 'Documents upcast in memory on read.', labelNames: ['migration'], registers });
    this.verifyMismatches = new Counter({
      name: 'zdm_migration_verify_mismatches_total',
      help: 'Verify failures (source=verify) and shadow-read mismatches (source=shadow-read).',
      labelNames: ['migration', 'source'],
      registers,
    });
    const readers = this.phaseReaders;
    this.phase = new Gauge({
      name: 'zdm_migration_phase',
      help: 'Current phase: 0 pending, 1 expand, 2 dual-write, 3 backfill, 4 verify, 5 switch-reads, 6 contract, 7 complete, 8 rolled-back.',
      labelNames: ['migration'],
      registers,
      async collect() {
        for (const read of readers) {
          // An unreachable store leaves the last values in place.
          const phases = await read().catch(() => ({}) as Record<string, Phase>);
          for (const [migration, phase] of Object.entries(phases)) this.set({ migration }, phaseCode(phase));
        }
      },
    });
  }
}

const sets = new WeakMap<Registry, MetricSet>();

/**
 * Prometheus metrics of migrations, labelled by `migration` (and `job` for runner metrics). Feed them
 * from the runner (`onBatch`), from the store plugins (`onUpcast`) and from shadow reads. Several
 * instances on one registry share the same metrics.
 */
export class MigrationMetrics {
  private readonly metrics: MetricSet;

  constructor(private readonly options: MigrationMetricsOptions = {}) {
    const registry = options.registry ?? defaultRegistry;
    let set = sets.get(registry);
    // A cleared registry (`registry.clear()`) lost our metrics: register them again.
    if (!set || registry.getSingleMetric('zdm_migration_phase') !== set.phase) sets.set(registry, (set = new MetricSet(registry)));
    this.metrics = set;
  }

  /** Records one runner batch; the migration and job come from the job key (`<migration>:<job>`). */
  recordBatch(event: BatchEvent): void {
    const cut = event.jobKey.lastIndexOf(':');
    const labels = cut > 0 ? { migration: event.jobKey.slice(0, cut), job: event.jobKey.slice(cut + 1) } : { migration: event.jobKey, job: 'job' };
    const m = this.metrics;
    m.processed.inc(labels, event.read);
    m.rate.set(labels, event.progress.ratePerSec);
    m.remaining.set(labels, event.progress.remaining);
    if (event.quarantined > 0) {
      m.quarantined.inc(labels, event.quarantined);
      if (labels.job === 'verify') m.verifyMismatches.inc({ migration: labels.migration, source: 'verify' }, event.quarantined);
    }
  }

  /** `recordBatch` as a callback, for `migrator.run(id, job, { onBatch: metrics.onBatch })`. */
  readonly onBatch = (event: BatchEvent): void => this.recordBatch(event);

  /** Counts lazy upcasts, one per migration step crossed. */
  recordUpcast(event: UpcastEvent): void {
    const count = event.count ?? 1;
    for (const migration of this.stepsOf(event)) this.metrics.lazyUpcasts.inc({ migration }, count);
  }

  /** `recordUpcast` as a callback, for the store plugins' `onUpcast` option. */
  readonly onUpcast = (event: UpcastEvent): void => this.recordUpcast(event);

  /** Counts shadow-read mismatches reported by the service. */
  recordShadowMismatch(migrationId: string, count = 1): void {
    this.metrics.verifyMismatches.inc({ migration: migrationId, source: 'shadow-read' }, count);
  }

  setPhase(migrationId: string, phase: Phase): void {
    this.metrics.phase.set({ migration: migrationId }, phaseCode(phase));
  }

  /** Reads phases at every scrape from `read`; returns the function that stops it. */
  trackPhases(read: PhaseReader): () => void {
    this.metrics.phaseReaders.add(read);
    return () => this.metrics.phaseReaders.delete(read);
  }

  private stepsOf(event: UpcastEvent): string[] {
    if (event.migrationId) return [event.migrationId];
    const target = event.target ?? event.collection ?? 'unknown';
    const steps = this.options.migrations?.path(target, event.from, event.to) ?? [];
    return steps.length ? steps.map((d) => d.id) : [`${target}:v${event.from}-v${event.to}`];
  }
}
