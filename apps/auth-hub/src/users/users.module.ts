import { Module } from '@nestjs/common';
import { USERS_COLLECTION } from '@zdm/auth-domain';
import { createUsersRepository, UsersRepository } from '@zdm/auth-data-access';
import { BuildSchemas, MigrationMetrics, MONGO_CONNECTION } from '@zdm/migrations-nest';
import type { Connection } from 'mongoose';
import { UsersController } from './users.controller';
import { CredentialsService } from './credentials.service';
import { PasswordHashing } from './password-hashing';
import { UsersService } from './users.service';

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
    PasswordHashing,
    UsersService,
    CredentialsService,
  ],
  exports: [UsersRepository, CredentialsService],
})
export class UsersModule {}
