import { Inject, Injectable, OnApplicationBootstrap, UnauthorizedException } from '@nestjs/common';
import { hashPassword, verifyPassword, type ScryptParams } from '@zdm/auth-domain';
import { UsersRepository, type StoredUser } from '@zdm/auth-data-access';
import { answerFromStore } from '@zdm/migrations-nest';
import { randomBytes } from 'node:crypto';
import { SCRYPT_PARAMS } from './users.service';

/** One answer for an unknown address and a wrong password, so the answer tells nobody which accounts exist. */
export const WRONG_CREDENTIALS = 'email or password is wrong';

/**
 * Checks a login's credentials. It always runs the KDF, against a dummy hash when the address is
 * unknown, so an unknown user and a wrong password take about the same time.
 */
@Injectable()
export class CredentialsService implements OnApplicationBootstrap {
  /** A hash of a random password with the current parameters: what unknown addresses are checked against. */
  private dummyHash = '';

  constructor(
    private readonly users: UsersRepository,
    @Inject(SCRYPT_PARAMS) private readonly scrypt: ScryptParams,
  ) {}

  async onApplicationBootstrap() {
    this.dummyHash = await hashPassword(randomBytes(24).toString('base64url'), this.scrypt);
  }

  /** The user whose normalized address and password these are; 401 otherwise. */
  async check(email: string, password: string): Promise<StoredUser> {
    const user = await answerFromStore(() => this.users.findByEmail(email));
    const stored = typeof user?.doc['passwordHash'] === 'string' ? user.doc['passwordHash'] : undefined;
    const matches = await verifyPassword(password, stored ?? this.dummyHash);
    if (!user || !stored || !matches) throw new UnauthorizedException(WRONG_CREDENTIALS);
    return user;
  }
}
