import { ConflictException, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { hashPassword, normalizeEmail } from '@zdm/auth-domain';
import { EmailTakenError, UsersRepository } from '@zdm/auth-data-access';
import { answerFromStore } from '@zdm/migrations-nest';
import { CreateUserDto } from './dto/create-user.dto';
import { UserResponse } from './dto/user.response';
import { PasswordHashing } from './password-hashing';

const isoOf = (value: unknown) => (value instanceof Date ? value.toISOString() : String(value));

/** Registers users: one per normalized e-mail address, the password stored only as its scrypt hash (parameters of the version written). */
@Injectable()
export class UsersService implements OnApplicationBootstrap {
  constructor(
    private readonly users: UsersRepository,
    private readonly hashing: PasswordHashing,
  ) {}

  /** The unique e-mail index exists before the first registration is served. */
  async onApplicationBootstrap() {
    await this.users.ensureIndexes();
  }

  async register(body: CreateUserDto): Promise<UserResponse> {
    const email = normalizeEmail(body.email);
    // The version is chosen once, so the hash's parameters and the stored version agree even if the flag flips meanwhile.
    const version = this.hashing.writeVersion();
    const passwordHash = await hashPassword(body.password, this.hashing.paramsFor(version));
    return answerFromStore(async () => {
      try {
        const user = await this.users.create(email, passwordHash, version);
        return { id: user.id, email, createdAt: isoOf(user.doc['createdAt']) };
      } catch (err) {
        if (err instanceof EmailTakenError) throw new ConflictException(err.message);
        throw err;
      }
    });
  }
}
