import { MigrationDefinition, MigrationRegistry } from '@zdm/migrations-core';

/** The MongoDB collection holding customers; migrations of customers target it. */
export const CUSTOMERS_COLLECTION = 'customers';

/** The service name migrations, heartbeats and gates use. */
export const CUSTOMERS_SERVICE = 'customers';

/**
 * Every migration this build of the customers service knows, registered explicitly, in order.
 * This build knows none: it reads and writes version 1 only.
 */
export const customersMigrations: readonly MigrationDefinition[] = [];

/** The validated registry of {@link customersMigrations}; throws at startup if the chain is broken. */
export function customersRegistry(): MigrationRegistry {
  return MigrationRegistry.create(customersMigrations);
}

/** The customer document versions this build reads: from v1 up to the last registered step. */
export function customersReadRange(registry: MigrationRegistry): { readMin: number; readMax: number } {
  return { readMin: 1, readMax: registry.latestVersion(CUSTOMERS_COLLECTION) };
}
