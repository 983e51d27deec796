import { JobTarget, TargetItem, backfillStep, createInMemoryControlStore, runJob, verifyStep } from '@zdm/migrations-core';
import { Registry } from 'prom-client';
import { fullNameMigration, fullRegistry } from '../../testing/customers-migrations.fixture';
import { MigrationMetrics } from './migration-metrics.service';

/** An array of customers, walked by id, with plain (non-CAS) writes: enough to drive the runner. */
function arrayTarget(count: number, broken: number[] = []): JobTarget {
  const items: TargetItem[] = Array.from({ length: count }, (_, i) => ({
    id: String(i).padStart(4, '0'),
    version: 1,
    doc: broken.includes(i) ? { firstName: 'x' } : { firstName: `F${i}`, lastName: `L${i}` },
    cas: null,
  }));
  return {
    countRemaining: async () => items.filter((i) => i.version < 2).length,
    readBatch: async (cursor, limit) => {
      const page = items.filter((i) => cursor === null || i.id > cursor).slice(0, limit);
      return { items: page, cursor: page.at(-1)?.id ?? cursor, done: page.length < limit };
    },
    writeBatch: async (changes) => {
      for (const c of changes) Object.assign(c.item, { doc: c.doc, version: c.version });
      return { conflicts: [], rejected: [] };
    },
    reread: async (ids) => items.filter((i) => ids.includes(i.id)),
  };
}

async function value(registry: Registry, name: string, labels: Record<string, string>): Promise<number | undefined> {
  const metric = await registry.getSingleMetric(name)?.get();
  return metric?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value;
}

describe('MigrationMetrics', () => {
  let registry: Registry;
  beforeEach(() => (registry = new Registry()));

  it('counts what a backfill processed and quarantined, with its rate and what remains', async () => {
    const metrics = new MigrationMetrics({ registry });
    const result = await runJob({
      jobKey: 'customers.full-name:backfill',
      migrationId: 'customers.full-name',
      stage: 'backfill',
      owner: 'test',
      store: createInMemoryControlStore(),
      target: arrayTarget(230, [5, 77]),
      step: backfillStep(fullNameMigration),
      throttle: { initialBatchSize: 50, minBatchSize: 50, maxBatchSize: 50 },
      onBatch: metrics.onBatch,
    });
    expect(result.status).toBe('done');
    const labels = { migration: 'customers.full-name', job: 'backfill' };
    expect(await value(registry, 'zdm_migration_docs_processed_total', labels)).toBe(result.checkpoint.processed);
    // Each pass over the target quarantines the two broken documents again.
    expect(result.checkpoint.quarantined).toBeGreaterThanOrEqual(2);
    expect(await value(registry, 'zdm_migration_quarantined_total', labels)).toBe(result.checkpoint.quarantined);
    expect(await value(registry, 'zdm_migration_docs_remaining', labels)).toBe(result.progress.remaining);
    expect(await value(registry, 'zdm_migration_docs_per_second', labels)).toBeGreaterThan(0);
  });

  it('counts verify failures as verify mismatches, and shadow-read mismatches apart', async () => {
    const metrics = new MigrationMetrics({ registry });
    await runJob({
      jobKey: 'customers.full-name:verify',
      migrationId: 'customers.full-name',
      stage: 'verify',
      owner: 'test',
      store: createInMemoryControlStore(),
      target: arrayTarget(10),
      step: verifyStep(fullNameMigration),
      onBatch: metrics.onBatch,
    });
    metrics.recordShadowMismatch('customers.full-name', 3);
    expect(await value(registry, 'zdm_migration_verify_mismatches_total', { migration: 'customers.full-name', source: 'verify' })).toBe(10);
    expect(await value(registry, 'zdm_migration_verify_mismatches_total', { source: 'shadow-read' })).toBe(3);
  });

  it('counts lazy upcasts once per migration step crossed', async () => {
    const metrics = new MigrationMetrics({ registry, migrations: fullRegistry() });
    metrics.onUpcast({ collection: 'customers', from: 1, to: 3 });
    metrics.onUpcast({ target: 'customers', from: 2, to: 3, count: 4 });
    metrics.onUpcast({ migrationId: 'sessions.device', from: 1, to: 2 });
    metrics.onUpcast({ collection: 'unknown', from: 1, to: 2 });
    const upcasts = (migration: string) => value(registry, 'zdm_migration_lazy_upcasts_total', { migration });
    expect(await upcasts('customers.full-name')).toBe(1);
    expect(await upcasts('customers.emails')).toBe(5);
    expect(await upcasts('sessions.device')).toBe(1);
    expect(await upcasts('unknown:v1-v2')).toBe(1);
  });

  it('reads the phase of each migration at scrape time, as its numeric code', async () => {
    const metrics = new MigrationMetrics({ registry });
    let phase: 'dual-write' | 'contract' = 'dual-write';
    const stop = metrics.trackPhases(async () => ({ 'customers.full-name': phase }));
    expect(await value(registry, 'zdm_migration_phase', { migration: 'customers.full-name' })).toBe(2);
    phase = 'contract';
    expect(await value(registry, 'zdm_migration_phase', { migration: 'customers.full-name' })).toBe(6);
    stop();
    phase = 'dual-write';
    expect(await value(registry, 'zdm_migration_phase', { migration: 'customers.full-name' })).toBe(6);
    metrics.setPhase('orders.total-cents', 'complete');
    expect(await value(registry, 'zdm_migration_phase', { migration: 'orders.total-cents' })).toBe(7);
  });

  it('shares one set of metrics between instances on the same registry', async () => {
    new MigrationMetrics({ registry }).recordShadowMismatch('m');
    new MigrationMetrics({ registry }).recordShadowMismatch('m');
    expect(await value(registry, 'zdm_migration_verify_mismatches_total', { migration: 'm' })).toBe(2);
    registry.clear();
    new MigrationMetrics({ registry }).recordShadowMismatch('m');
    expect(await value(registry, 'zdm_migration_verify_mismatches_total', { migration: 'm' })).toBe(1);
  });
});
