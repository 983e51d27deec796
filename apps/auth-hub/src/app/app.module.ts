import { Module } from '@nestjs/common';
import { AUTH_SERVICE, authRegistry, SESSIONS_TARGET, sessionsReadRange, USERS_COLLECTION, usersReadRange } from '@zdm/auth-domain';
import { AuthGuardModule } from '@zdm/auth-guard';
import { MigrationsModule, MONGO_CONNECTION, MongoDatabaseModule, mongoMigrationsOptions } from '@zdm/migrations-nest';
import { SERVICE_CONFIG, ServiceConfig, ServiceDefaultsModule } from '@zdm/service-defaults';
import type { Connection } from 'mongoose';
import { KeysModule } from '../keys/keys.module';
import { SigningKey } from '../keys/signing-key';
import { SessionsModule } from '../sessions/sessions.module';
import { UsersModule } from '../users/users.module';
import { authHubConfig } from './auth-hub.config';
import { RedisModule } from './redis.module';
import { authHubServiceOptions } from './service-options';

@Module({
  imports: [
    ServiceDefaultsModule.forRoot({ config: authHubConfig }),
    MongoDatabaseModule,
    RedisModule,
    MigrationsModule.forRootAsync({
      inject: [SERVICE_CONFIG, MONGO_CONNECTION],
      useFactory: (config: ServiceConfig<typeof authHubConfig>, connection: Connection) => {
        // Session keys carry the deployment's prefix, so the registry is built from the config.
        const registry = authRegistry({ redisPrefix: config.REDIS_PREFIX });
        return mongoMigrationsOptions(config, connection, {
          service: AUTH_SERVICE,
          registry,
          targets: { [USERS_COLLECTION]: usersReadRange(registry), [SESSIONS_TARGET]: sessionsReadRange(registry) },
          apiVersion: authHubServiceOptions.version,
        });
      },
    }),
    KeysModule,
    // The hub checks its own access tokens (logout) with the public keys of its ring, through the same guard every service uses.
    AuthGuardModule.forRootAsync({
      inject: [SERVICE_CONFIG, SigningKey],
      useFactory: (config: ServiceConfig<typeof authHubConfig>, key: SigningKey) => ({
        keys: { jwks: key.ringJwks() },
        issuer: config.TOKEN_ISSUER,
        audience: config.TOKEN_AUDIENCE,
      }),
    }),
    UsersModule,
    SessionsModule,
  ],
})
export class AppModule {}
