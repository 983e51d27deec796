import { MigrationDefinition, MigrationRegistry } from '@zdm/migrations-core';

/** The MongoDB collection holding orders; migrations of orders target it. */
export const ORDERS_COLLECTION = 'orders';

/** The service name migrations, heartbeats and gates use. */
export const ORDERS_SERVICE = 'orders';

/** Every migration this build of the orders service knows, registered explicitly, in order. */
export const ordersMigrations: readonly MigrationDefinition[] = [];

/** The validated registry of {@link ordersMigrations}; throws at startup if the chain is broken. */
export function ordersRegistry(): MigrationRegistry {
  return MigrationRegistry.create(ordersMigrations);
}

/** The order document versions this build reads: from v1 up to the last registered step. */
export function ordersReadRange(registry: MigrationRegistry): { readMin: number; readMax: number } {
  return { readMin: 1, readMax: registry.latestVersion(ORDERS_COLLECTION) };
}
