import { Module } from '@nestjs/common';
import { SessionsStore } from '@zdm/auth-data-access';
import { SESSION_KEYSPACE_MIGRATION, SESSIONS_TARGET } from '@zdm/auth-domain';
import { flagNames } from '@zdm/migrations-core';
import { BuildSchemas, FLAG_SOURCE, FlagSource } from '@zdm/migrations-nest';
import { SERVICE_CONFIG, ServiceConfig } from '@zdm/service-defaults';
import type Redis from 'ioredis';
import { authHubConfig } from '../app/auth-hub.config';
import { REDIS_CLIENT } from '../app/redis.module';
import { UsersModule } from '../users/users.module';
import { LoginLimiter } from './login-limiter';
import { SessionsController } from './sessions.controller';
import { SessionsService } from './sessions.service';

@Module({
  imports: [UsersModule],
  controllers: [SessionsController],
  providers: [
    {
      provide: SessionsStore,
      inject: [REDIS_CLIENT, SERVICE_CONFIG, BuildSchemas, FLAG_SOURCE],
      // The shapes follow auth.session-keyspace's flags on every call; the write version is the one heartbeats report.
      useFactory: (redis: Redis, config: ServiceConfig<typeof authHubConfig>, schemas: BuildSchemas, flags: FlagSource) => {
        const names = flagNames(SESSION_KEYSPACE_MIGRATION);
        return new SessionsStore(redis, {
          prefix: config.REDIS_PREFIX,
          shapes: () => ({ readNew: flags.isEnabled(names.readNew), writeNew: schemas.writeVersion(SESSIONS_TARGET) >= 2, writeOld: flags.isEnabled(names.writeOld) }),
        });
      },
    },
    LoginLimiter,
    SessionsService,
  ],
})
export class SessionsModule {}
