import { Module } from '@nestjs/common';
import { CUSTOMERS_COLLECTION } from '@zdm/customers-domain';
import { createCustomersRepository, CustomersRepository } from '@zdm/customers-data-access';
import { BuildSchemas, MigrationMetrics, MONGO_CONNECTION } from '@zdm/migrations-nest';
import type { Connection } from 'mongoose';
import { CustomersController } from './customers.controller';
import { CustomersService } from './customers.service';

@Module({
  controllers: [CustomersController],
  providers: [
    {
      provide: CustomersRepository,
      inject: [MONGO_CONNECTION, BuildSchemas, MigrationMetrics],
      useFactory: (connection: Connection, schemas: BuildSchemas, metrics: MigrationMetrics) =>
        createCustomersRepository(connection, {
          registry: schemas.registry,
          ...schemas.readRange(CUSTOMERS_COLLECTION),
          writeVersion: () => schemas.writeVersion(CUSTOMERS_COLLECTION),
          onUpcast: metrics.onUpcast,
        }),
    },
    CustomersService,
  ],
})
export class CustomersModule {}
