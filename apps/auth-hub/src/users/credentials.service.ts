import { ForbiddenException, Injectable, Logger, OnApplicationBootstrap, UnauthorizedException } from '@nestjs/common';
import { hashPassword, needsRehash, parsePasswordHash, verifyPassword } from '@zdm/auth-domain';
import { UsersRepository, type StoredUser } from '@zdm/auth-data-access';
import { answerFromStore } from '@zdm/migrations-nest';
import { randomBytes } from 'node:crypto';
import { PasswordHashing } from './password-hashing';

/** One answer for an unknown address and a wrong password, so the answer tells nobody which accounts exist. */
export const WRONG_CREDENTIALS = 'email or password is wrong';

/** The answer to a login of a user whose password was expired by an operator (`zdm lazy expire auth.password-hash`). */
export const PASSWORD_RESET_REQUIRED =
  'the password of this account must be reset before it can log in: it was not used before the deadline for the stronger password hashing, so it was removed; set a new password through the password reset';

/**
 * Checks a login's credentials. It always runs the KDF, against a dummy hash when the address is
 * unknown, so an unknown user and a wrong password take about the same time. After a successful
 * check the hash is upgraded to the parameters of the version users are written at now
 * (`auth.password-hash`: the plaintext is only known here), with a compare-and-set.
 */
@Injectable()
export class CredentialsService implements OnApplicationBootstrap {
  private readonly log = new Logger(CredentialsService.name);
  /** Hashes of a random password per stored version's parameters: what unknown addresses are checked against. */
  private readonly dummyHashes = new Map<number, string>();

  constructor(
    private readonly users: UsersRepository,
    private readonly hashing: PasswordHashing,
  ) {}

  async onApplicationBootstrap() {
    const password = randomBytes(24).toString('base64url');
    for (const version of [1, 2]) this.dummyHashes.set(version, await hashPassword(password, this.hashing.paramsFor(version)));
  }

  /** The user whose normalized address and password these are; 401 otherwise, 403 when the user must reset the password. */
  async check(email: string, password: string): Promise<StoredUser> {
    const user = await answerFromStore(() => this.users.findByEmail(email));
    const stored = typeof user?.doc['passwordHash'] === 'string' ? user.doc['passwordHash'] : undefined;
    const writeVersion = this.hashing.writeVersion();
    // Unknown addresses cost what a user written now costs: new users and upgraded ones.
    const checked = stored ?? this.dummyFor(writeVersion);
    const matches = await verifyPassword(password, checked);
    if (!user || !stored || !matches) await this.evenOutFailure(checked, writeVersion);
    if (user?.doc['passwordResetRequired'] === true) throw new ForbiddenException(PASSWORD_RESET_REQUIRED);
    if (!user || !stored || !matches) throw new UnauthorizedException(WRONG_CREDENTIALS);
    await this.upgrade(user, stored, password);
    return user;
  }

  /**
   * While users are written at v2, stored hashes have two costs (v1 users not upgraded yet, v2
   * users), so a failed check would tell by its time which kind of account an address has, or
   * that it has none. Every failure therefore also runs the KDF at each cost up to the write
   * version that `checked` did not have, against a dummy hash: unknown address, wrong password
   * for a v1 user and wrong password for a v2 user all cost one v1 and one v2 hash. At v1 nothing
   * is added (one cost only).
   */
  private async evenOutFailure(checked: string, writeVersion: number): Promise<void> {
    const spent = parsePasswordHash(checked).params.logN;
    for (let version = 1; version <= Math.min(writeVersion, 2); version++) {
      if (this.hashing.paramsFor(version).logN !== spent) await verifyPassword('', this.dummyFor(version));
    }
  }

  /**
   * Rehashes with the parameters of the version users are written at now when the stored hash is
   * older or weaker, writing only if the hash is still the one just verified (a concurrent login
   * may have upgraded it already). A failure is logged and the login goes on: the next one retries.
   */
  private async upgrade(user: StoredUser, stored: string, password: string): Promise<void> {
    const version = this.hashing.writeVersion();
    const params = this.hashing.paramsFor(version);
    // Users written at v1 keep their hash (as before the migration); a newer user is never written back down.
    if (version < 2 || user.storedVersion > version) return;
    if (user.storedVersion === version && !needsRehash(stored, params)) return;
    try {
      const next = await hashPassword(password, params);
      await this.users.replacePasswordHash(user.id, stored, next, version);
    } catch (err) {
      this.log.warn(`user ${user.id}: the password hash was not upgraded to v${version} (${err instanceof Error ? err.message : String(err)}); the next login tries again`);
    }
  }

  private dummyFor(version: number): string {
    return this.dummyHashes.get(version >= 2 ? 2 : 1) as string;
  }
}
