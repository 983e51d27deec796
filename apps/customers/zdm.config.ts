// The `zdm` CLI's view of the customers service:  npm run zdm -- --config apps/customers/zdm.config.ts status
// Environment: MONGO_URL (required), MONGO_DB (default customers), and for flag changes
// UNLEASH_URL + UNLEASH_ADMIN_TOKEN (without them phase changes only record the flags in the audit log).
import { CUSTOMERS_SERVICE, customersMigrations, customersRegistry } from '@zdm/customers-domain';
import { defineConfig } from '@zdm/migrations-core';
import { createMongoBackend } from '@zdm/migrations-mongo';
import { UnleashFlagAdmin } from '@zdm/migrations-nest';
import mongoose, { mongo } from 'mongoose';

/** The migrations of the customers service, validated, as its build registers them. */
export const registry = customersRegistry();

function required(name: string, env: NodeJS.ProcessEnv): string {
  const value = env[name]?.trim();
  if (!value) throw new Error(`${name} is required by the customers zdm config`);
  return value;
}

/** Opens the customers database (data and control store) and Unleash's Admin API from `env`. */
export async function connect(env: NodeJS.ProcessEnv = process.env) {
  const url = required('MONGO_URL', env);
  const unleashUrl = env['UNLEASH_URL']?.trim();
  const flags = unleashUrl ? new UnleashFlagAdmin({ url: unleashUrl, token: required('UNLEASH_ADMIN_TOKEN', env) }) : undefined;
  const connection = await mongoose.createConnection(url, { dbName: env['MONGO_DB']?.trim() || 'customers', serverSelectionTimeoutMS: 5_000 }).asPromise();
  return {
    backend: createMongoBackend({ db: connection.db as mongo.Db, registry }),
    flags,
    close: () => connection.close(),
  };
}

export default defineConfig({
  service: CUSTOMERS_SERVICE,
  migrations: customersMigrations,
  connect: () => connect(),
});
