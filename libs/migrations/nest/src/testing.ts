/**
 * `@zdm/migrations-nest/testing`: the operator's side of a service's migration suites on MongoDB and
 * Unleash, as the zdm CLI builds it. Test code only: nothing in a library's own entry imports it.
 */
import { waitFor, type UnleashService } from '@zdm/dev-services';
import { ControlStore, InstanceHeartbeat, MigrationDefinition, MigrationRegistry, Migrator, flagsForPhase } from '@zdm/migrations-core';
import { createMongoBackend } from '@zdm/migrations-mongo';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
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

/** Waits until the first live instance in `store` reports every flag of `flags` at its value; resolves that heartbeat. */
export function flagsSeen(store: ControlStore, flags: Record<string, boolean>): Promise<InstanceHeartbeat> {
  return waitFor(`the instance to report ${JSON.stringify(flags)}`, async () => {
    const [hb] = await store.heartbeats.live();
    return hb && Object.entries(flags).every(([name, value]) => hb.flags[name] === value) ? hb : undefined;
  });
}

/** What one `zdm` process answered: its exit code and its last JSON line (the result). */
export interface ZdmRun {
  code: number;
  result: Record<string, unknown>;
}

/**
 * `zdm --config <config> --json <args>` run as its own process from the repository root `root`,
 * as an operator runs it, with only PATH and `env` in its environment.
 */
export function zdmProcess(root: string, config: string, env: Record<string, string>): (...args: string[]) => Promise<ZdmRun> {
  return async (...args) => {
    const run = promisify(execFile)(path.join(root, 'node_modules', '.bin', 'node'), [path.join(root, 'tools', 'scripts', 'run-ts.mjs'), 'apps/zdm/src/main.ts', '--config', config, '--json', ...args], {
      cwd: root,
      env: { PATH: process.env['PATH'], ...env },
    });
    const { stdout, code } = await run.then((r) => ({ stdout: r.stdout, code: 0 })).catch((err: { stdout: string; code: number }) => ({ stdout: err.stdout, code: err.code }));
    return { code, result: JSON.parse(stdout.trim().split('\n').pop() as string) as Record<string, unknown> };
  };
}
