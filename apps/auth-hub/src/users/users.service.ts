import { ConflictException, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { hashPassword, normalizeEmail, type ScryptParams } from '@zdm/auth-domain';
import { EmailTakenError, UsersRepository } from '@zdm/auth-data-access';
import { answerFromStore } from '@zdm/migrations-nest';
import { CreateUserDto } from './dto/create-user.dto';
import { UserResponse } from './dto/user.response';

/** Injection token of the scrypt parameters new password hashes use. */
export const SCRYPT_PARAMS = Symbol('auth-hub:SCRYPT_PARAMS');

const isoOf = (value: unknown) => (value instanceof Date ? value.toISOString() : String(value));

/** Registers users: one per normalized e-mail address, the password stored only as its scrypt hash. */
@Injectable()
export class UsersService implements OnApplicationBootstrap {
  constructor(
    private readonly users: UsersRepository,
    @Inject(SCRYPT_PARAMS) private readonly scrypt: ScryptParams,
  ) {}

  /** The unique e-mail index exists before the first registration is served. */
  async onApplicationBootstrap() {
    await this.users.ensureIndexes();
  }

  async register(body: CreateUserDto): Promise<UserResponse> {
    const email = normalizeEmail(body.email);
    const passwordHash = await hashPassword(body.password, this.scrypt);
    return answerFromStore(async () => {
      try {
        const user = await this.users.create(email, passwordHash);
        return { id: user.id, email, createdAt: isoOf(user.doc['createdAt']) };
      } catch (err) {
        if (err instanceof EmailTakenError) throw new ConflictException(err.message);
        throw err;
      }
    });
  }
}
