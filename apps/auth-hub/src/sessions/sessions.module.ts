import { Module } from '@nestjs/common';
import { SessionsStore } from '@zdm/auth-data-access';
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
      inject: [REDIS_CLIENT, SERVICE_CONFIG],
      useFactory: (redis: Redis, config: ServiceConfig<typeof authHubConfig>) => new SessionsStore(redis, { prefix: config.REDIS_PREFIX }),
    },
    LoginLimiter,
    SessionsService,
  ],
})
export class SessionsModule {}
