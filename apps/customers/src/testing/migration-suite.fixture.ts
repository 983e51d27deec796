import { customersMigrations, customersRegistry } from '@zdm/customers-domain';
import type { UnleashService } from '@zdm/dev-services';
import { ControlStore, Migrator, flagsForPhase } from '@zdm/migrations-core';
import { createMongoBackend } from '@zdm/migrations-mongo';
import { UnleashFlagAdmin } from '@zdm/migrations-nest';
import type { mongo } from 'mongoose';
import type { InstanceEnv } from './customers-app.fixture';

/** Every migration flag of this build at its oldest, safest value (the `pending` phase). */
export const PENDING_FLAGS: Record<string, boolean> = Object.assign({}, ...customersMigrations.map((def) => flagsForPhase(def, 'pending')));

/** The operator's side of a suite: the Unleash Admin API and a `Migrator` as the zdm CLI builds it. */
export interface Operator {
  admin: UnleashFlagAdmin;
  migrator: Migrator;
  store: ControlStore;
}

/**
 * Sets every flag back to its pending value (suites share one Unleash, so none may assume a clean
 * one) and builds the operator's tools over the suite's database.
 */
export async function operatorFor(db: mongo.Db, unleash: UnleashService): Promise<Operator> {
  const admin = new UnleashFlagAdmin({ url: unleash.url, token: unleash.adminToken });
  for (const [flag, enabled] of Object.entries(PENDING_FLAGS)) await admin.set(flag, enabled);
  const backend = createMongoBackend({ db, registry: customersRegistry() });
  return { admin, store: backend.store, migrator: new Migrator({ registry: customersRegistry(), backend, flags: admin }) };
}

/** The environment of an in-process instance of this build that follows Unleash closely (200 ms polls and beats). */
export function followingUnleash(unleash: UnleashService, env: InstanceEnv): InstanceEnv {
  return {
    UNLEASH_URL: unleash.url,
    UNLEASH_CLIENT_TOKEN: unleash.clientToken,
    UNLEASH_REFRESH_MS: '200',
    HEARTBEAT_INTERVAL_MS: '200',
    ...env,
  };
}
