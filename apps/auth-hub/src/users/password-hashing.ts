import { Inject, Injectable } from '@nestjs/common';
import { USERS_COLLECTION, type ScryptParams } from '@zdm/auth-domain';
import { BuildSchemas } from '@zdm/migrations-nest';
import { SERVICE_CONFIG, ServiceConfig } from '@zdm/service-defaults';
import { authHubConfig } from '../app/auth-hub.config';

/**
 * Which scrypt parameters a password hash is made with: those of the version user documents are
 * written at now, which follows `auth.password-hash.write-new` (v1: SCRYPT_LOG_N, v2: SCRYPT_V2_LOG_N).
 */
@Injectable()
export class PasswordHashing {
  constructor(
    private readonly schemas: BuildSchemas,
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig<typeof authHubConfig>,
  ) {}

  /** The version user documents are written at now: 2 once this build sees `auth.password-hash.write-new` on. */
  writeVersion(): number {
    return this.schemas.writeVersion(USERS_COLLECTION);
  }

  /** The parameters of hashes stored at `version`. */
  paramsFor(version: number): ScryptParams {
    return { logN: version >= 2 ? this.config.SCRYPT_V2_LOG_N : this.config.SCRYPT_LOG_N, r: 8, p: 1 };
  }
}
