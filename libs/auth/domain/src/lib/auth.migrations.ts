import { MigrationDefinition, MigrationRegistry } from '@zdm/migrations-core';

/** The service name migrations, heartbeats and gates use. */
export const AUTH_SERVICE = 'auth-hub';

/** The MongoDB collection holding users; migrations of users target it. */
export const USERS_COLLECTION = 'users';

/** Every migration this build of the auth hub knows, registered explicitly, in order (none yet: v1). */
export const authMigrations: readonly MigrationDefinition[] = [];

/** The validated registry of {@link authMigrations}; throws at startup if the chain is broken. */
export function authRegistry(): MigrationRegistry {
  return MigrationRegistry.create(authMigrations);
}

/** The user document versions this build reads: from v1 up to the last registered step. */
export function usersReadRange(registry: MigrationRegistry): { readMin: number; readMax: number } {
  return { readMin: 1, readMax: registry.latestVersion(USERS_COLLECTION) };
}
