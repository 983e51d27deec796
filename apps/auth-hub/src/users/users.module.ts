import { Module } from '@nestjs/common';
import { USERS_COLLECTION } from '@zdm/auth-domain';
import { createUsersRepository, UsersRepository } from '@zdm/auth-data-access';
import { BuildSchemas, MigrationMetrics, MONGO_CONNECTION } from '@zdm/migrations-nest';
import { SERVICE_CONFIG, ServiceConfig } from '@zdm/service-defaults';
import type { Connection } from 'mongoose';
import { authHubConfig } from '../app/auth-hub.config';
import { UsersController } from './users.controller';
import { CredentialsService } from './credentials.service';
import { SCRYPT_PARAMS, UsersService } from './users.service';

@Module({
  controllers: [UsersController],
  providers: [
    {
      provide: UsersRepository,
      inject: [MONGO_CONNECTION, BuildSchemas, MigrationMetrics],
      useFactory: (connection: Connection, schemas: BuildSchemas, metrics: MigrationMetrics) =>
        createUsersRepository(connection, {
          registry: schemas.registry,
          ...schemas.readRange(USERS_COLLECTION),
          writeVersion: () => schemas.writeVersion(USERS_COLLECTION),
          onUpcast: metrics.onUpcast,
        }),
    },
    { provide: SCRYPT_PARAMS, inject: [SERVICE_CONFIG], useFactory: (config: ServiceConfig<typeof authHubConfig>) => ({ logN: config.SCRYPT_LOG_N, r: 8, p: 1 }) },
    UsersService,
    CredentialsService,
  ],
  exports: [UsersRepository, SCRYPT_PARAMS, CredentialsService],
})
export class UsersModule {}
