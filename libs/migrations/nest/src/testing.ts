/**
 * `@zdm/migrations-nest/testing`: the operator's side of a service's migration suites on MongoDB and
 * Unleash, as the zdm CLI builds it. Test code only: nothing in a library's own entry imports it.
 */
import type { UnleashService } from '@zdm/dev-services';
import { ControlStore, MigrationDefinition, MigrationRegistry, Migrator, flagsForPhase } from '@zdm/migrations-core';
import { createMongoBackend } from '@zdm/migrations-mongo';
import type { mongo } from 'mongoose';
import { UnleashFlagAdmin } from './lib/flags/unleash-admin.client';

/** Every flag of these migrations at its oldest, safest value (the `pending` phase). */
export function pendingFlags(migrations: readonly MigrationDefinition[]): Record<string, boolean> {
  return Object.assign({}, ...migrations.map((def) => flagsForPhase(def, 'pending')));
}

/** The operator's side of a suite: the Unleash Admin API and a `Migrator` as the zdm CLI builds it. */
export interface Operator {
  admin: UnleashFlagAdmin;
  migrator: Migrator;
  store: ControlStore;
}

/**
 * Sets every flag of `migrations` back to its pending value (suites share one Unleash, so none may
 * assume a clean one) and builds the operator's tools over the suite's database.
 */
export async function operatorFor(db: mongo.Db, unleash: UnleashService, migrations: readonly MigrationDefinition[]): Promise<Operator> {
  const admin = new UnleashFlagAdmin({ url: unleash.url, token: unleash.adminToken });
  for (const [flag, enabled] of Object.entries(pendingFlags(migrations))) await admin.set(flag, enabled);
  const registry = MigrationRegistry.create(migrations);
  const backend = createMongoBackend({ db, registry });
  return { admin, store: backend.store, migrator: new Migrator({ registry, backend, flags: admin }) };
}

/** The environment of an in-process instance that follows Unleash closely (200 ms polls and beats). */
export function followingUnleash(unleash: UnleashService, env: Record<string, string | undefined>): Record<string, string | undefined> {
  return {
    UNLEASH_URL: unleash.url,
    UNLEASH_CLIENT_TOKEN: unleash.clientToken,
    UNLEASH_REFRESH_MS: '200',
    HEARTBEAT_INTERVAL_MS: '200',
    ...env,
  };
}
