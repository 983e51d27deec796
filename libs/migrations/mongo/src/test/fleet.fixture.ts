import { ControlStore, MigrationDefinition, MigrationRegistry, Migrator, flagsForPhase, targetName } from '@zdm/migrations-core';
import { mongo } from 'mongoose';
import { MongoBackend, MongoBackendOptions, createMongoBackend } from '../lib/mongo.backend';

/** Who drives the test migrations, for the audit log. */
export const ops = { actor: 'test', reason: 'integration test' };

/**
 * Batches of 50..100 and no adaptive pauses. FerretDB 1.x on SQLite scans the table for every
 * single-document update (tens of ms each with a few thousand documents), so bigger batches would
 * outlast the lease.
 */
export const testThrottle = { initialBatchSize: 100, minBatchSize: 50, maxBatchSize: 100, targetLatencyMs: 120_000 };

/**
 * One live instance of the migration's service that reads `from`..`to` and reports the flags of
 * `phase` (writing `to` once write-new is on), as a deployed build would.
 */
export async function beatAs(store: ControlStore, def: MigrationDefinition, phase: Parameters<typeof flagsForPhase>[1]): Promise<void> {
  const flags = flagsForPhase(def, phase);
  const writes = flags[`${def.id}.write-new`] ? def.to : def.from;
  await store.heartbeats.beat(
    {
      service: def.service,
      instanceId: `${def.id}-i1`,
      build: 'test',
      schemas: { [targetName(def.target)]: { readMin: def.from, readMax: def.to, writes } },
      flags,
      at: new Date(),
    },
    600_000,
  );
}

/** A migrator over the mongo backend for `defs`, with the test throttle. */
export function testMigrator(db: mongo.Db, defs: MigrationDefinition[], options: Partial<MongoBackendOptions> = {}): { migrator: Migrator; backend: MongoBackend } {
  const registry = MigrationRegistry.create(defs);
  const backend = createMongoBackend({ db, registry, ...options });
  return { migrator: new Migrator({ registry, backend, throttle: testThrottle, leaseTtlMs: 120_000 }), backend };
}

/** Advances the migration phase by phase until it is in `phase`, with the fleet reporting each phase's flags. */
export async function advanceTo(migrator: Migrator, def: MigrationDefinition, phase: string): Promise<void> {
  for (let guard = 0; guard < 10; guard++) {
    const state = await migrator.phaseMachine.state(def.id);
    if (state.phase === phase) return;
    await beatAs(migrator.store, def, state.phase);
    await migrator.advance(def.id, ops);
    await beatAs(migrator.store, def, (await migrator.phaseMachine.state(def.id)).phase);
  }
  throw new Error(`${def.id} never reached ${phase}`);
}
