import { USERS_COLLECTION } from '@zdm/auth-domain';
import { VersionedRepository, versionedModel, type ModelVersionOptions, type StoredDocument } from '@zdm/migrations-mongo';
import type { Connection } from 'mongoose';

/** A user document as the repository hands it out (upcast; `_id`, `_v`, `_rev` split off). */
export type StoredUser = StoredDocument;

/** Options of {@link createUsersRepository}: what this build reads and writes of user documents. */
export type UsersModelOptions = ModelVersionOptions;

/**
 * The fields of user documents: the normalized e-mail address and the password hash (with its
 * parameters); from v2 (`auth.password-hash`) also when the hash was written, and whether the user
 * must reset the password (no hash then).
 */
const USER_FIELDS = { email: String, passwordHash: String, passwordHashedAt: Date, passwordResetRequired: Boolean };

/** Thrown when a user with this e-mail address exists already (answered 409). */
export class EmailTakenError extends Error {
  constructor() {
    // The address itself is left out: messages end up in logs.
    super('a user with this email exists already');
    this.name = 'EmailTakenError';
  }
}

const DUPLICATE_KEY = 11000;
const isDuplicateKey = (err: unknown) =>
  (err as { code?: unknown }).code === DUPLICATE_KEY || (err as { writeErrors?: { code?: unknown }[] }).writeErrors?.some((e) => e.code === DUPLICATE_KEY) === true;

/**
 * Users in MongoDB: a versioned repository over the `users` collection (see `VersionedRepository`),
 * with one user per normalized e-mail address, held by a unique index (two racing registrations of
 * one address: one 201, one 409).
 */
export class UsersRepository extends VersionedRepository {
  /** Creates the unique e-mail index if it is missing; call once before serving. */
  async ensureIndexes(): Promise<void> {
    await this.model.collection.createIndex({ email: 1 }, { unique: true, name: 'email_unique' });
  }

  /**
   * Inserts a user stored at `version` (the version the hash's parameters belong to; default: the
   * write version), with `passwordHashedAt` from v2; {@link EmailTakenError} when the address is taken.
   */
  async create(email: string, passwordHash: string, version?: number): Promise<StoredUser> {
    try {
      return await this.insert({ email, passwordHash, ...(version !== undefined && version >= 2 ? { passwordHashedAt: new Date() } : {}) }, version);
    } catch (err) {
      if (isDuplicateKey(err)) throw new EmailTakenError();
      throw err;
    }
  }

  /**
   * Replaces the password hash the login verified (`verified`) with `next`, stored at `version`
   * with the time it was written, as a compare-and-set: when the stored hash is no longer
   * `verified` (another login upgraded it, or the password changed), nothing is written. Resolves
   * whether `next` was written.
   */
  async replacePasswordHash(id: string, verified: string, next: string, version: number): Promise<boolean> {
    let written = false;
    await this.update(
      id,
      (current) => {
        written = current.doc['passwordHash'] === verified;
        return written ? { set: { passwordHash: next, passwordHashedAt: new Date() } } : null;
      },
      { version },
    );
    return written;
  }

  /** The user with this normalized e-mail address, or null. */
  async findByEmail(email: string): Promise<StoredUser | null> {
    const { items } = await this.page(1, undefined, { email });
    return items[0] ?? null;
  }
}

/** The users repository on `connection`: versioned model (stamps `_v`, bumps `_rev`), compare-and-set updates through the write seam. */
export function createUsersRepository(connection: Connection, options: UsersModelOptions): UsersRepository {
  const model = versionedModel(connection, { ...options, collection: USERS_COLLECTION, modelName: 'User', fields: USER_FIELDS });
  return new UsersRepository({ ...model, entity: 'user' });
}
