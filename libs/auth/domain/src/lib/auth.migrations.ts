import { Doc, MigrationDefinition, MigrationRegistry, VerifyResult } from '@zdm/migrations-core';
import { parsePasswordHash } from './password-hash';
import { SESSIONS_TARGET, sessionKeyspaceMigration } from './session-keyspace';

/** The service name migrations, heartbeats and gates use. */
export const AUTH_SERVICE = 'auth-hub';

/** The MongoDB collection holding users; migrations of users target it. */
export const USERS_COLLECTION = 'users';

/** The id of the password-hash upgrade (users v1 -> v2). */
export const PASSWORD_HASH_MIGRATION = 'auth.password-hash';

/**
 * A user nobody logged in as by the deadline (`zdm lazy expire`): the v1 hash is removed and the
 * user must reset the password; the document and its e-mail address are kept.
 */
export function expireUserPassword(doc: Doc): Doc {
  const { passwordHash: _removed, ...rest } = doc;
  return { ...rest, passwordHashedAt: null, passwordResetRequired: true };
}

/** What a v2 user holds: a hash this code reads, written at a known time, or no hash and a reset to do. */
export function verifyUserV2(doc: Doc): VerifyResult {
  if (doc['passwordResetRequired'] === true) return doc['passwordHash'] === undefined || 'a user who must reset the password still has a password hash';
  if (typeof doc['passwordHash'] !== 'string') return 'no password hash and no reset required';
  try {
    parsePasswordHash(doc['passwordHash']);
  } catch (err) {
    return (err as Error).message;
  }
  return doc['passwordHashedAt'] instanceof Date || 'passwordHashedAt is not a date: the hash was not written by a v2 login or registration';
}

/**
 * users v1 -> v2: every password hash made with the stronger parameters (or the user marked
 * must-reset). Lazy-only: a hash can only be recomputed from the plaintext, which the hub sees at
 * a successful login, so there is no backfill. v2 adds `passwordHashedAt` (when the current hash
 * was written; null on read of a v1 user) and, for expired users, `passwordResetRequired`.
 */
export const passwordHashMigration: MigrationDefinition = {
  id: PASSWORD_HASH_MIGRATION,
  description: 'password hashes rehashed with stronger scrypt parameters at each user\'s next successful login',
  service: AUTH_SERVICE,
  target: { kind: 'mongo', collection: USERS_COLLECTION },
  from: 1,
  to: 2,
  strategy: { kind: 'lazy-only', upgradedWhen: "at the user's next successful login", expire: expireUserPassword },
  up: (doc) => ({ ...doc, passwordHashedAt: doc['passwordHashedAt'] ?? null }),
  // A v1 build verifies v2 hashes (the parameters are stored with each hash, within its bounds), so
  // going back is dropping the v2 field; a user who must reset keeps no hash either way.
  down: ({ passwordHashedAt: _at, ...doc }) => doc,
  verify: verifyUserV2,
  addedFields: ['passwordHashedAt'],
};

/** Where the auth hub's data lives in a deployment: its Redis key prefix (REDIS_PREFIX). */
export interface AuthDataOptions {
  /** Prepended to every Redis key; default none. */
  redisPrefix?: string;
}

/** Every migration this build of the auth hub knows, registered explicitly, in order, for a deployment's keys. */
export function authMigrationsFor(options: AuthDataOptions = {}): MigrationDefinition[] {
  return [passwordHashMigration, sessionKeyspaceMigration(options.redisPrefix ?? '')];
}

/** The migrations of a deployment without a Redis key prefix. */
export const authMigrations: readonly MigrationDefinition[] = authMigrationsFor();

/** The validated registry of {@link authMigrationsFor}; throws at startup if the chain is broken. */
export function authRegistry(options: AuthDataOptions = {}): MigrationRegistry {
  return MigrationRegistry.create(authMigrationsFor(options));
}

/** The user document versions this build reads: from v1 up to the last registered step. */
export function usersReadRange(registry: MigrationRegistry): { readMin: number; readMax: number } {
  return { readMin: 1, readMax: registry.latestVersion(USERS_COLLECTION) };
}

/** The session shapes this build reads: v1 (`session:<sid>`) up to the last registered step. */
export function sessionsReadRange(registry: MigrationRegistry): { readMin: number; readMax: number } {
  return { readMin: 1, readMax: registry.latestVersion(SESSIONS_TARGET) };
}
