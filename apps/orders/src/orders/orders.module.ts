import { Module } from '@nestjs/common';
import { ORDERS_COLLECTION } from '@zdm/orders-domain';
import { createOrdersRepository, OrdersRepository } from '@zdm/orders-data-access';
import { CustomersClient } from '@zdm/orders-customers-client';
import { BuildSchemas, MigrationMetrics, MONGO_CONNECTION } from '@zdm/migrations-nest';
import { SERVICE_CONFIG, ServiceConfig } from '@zdm/service-defaults';
import type { Connection } from 'mongoose';
import { ordersConfig } from '../app/orders.config';
import { OrdersController } from './orders.controller';
import { CUSTOMERS_CLIENT, OrdersService } from './orders.service';

@Module({
  controllers: [OrdersController],
  providers: [
    {
      provide: OrdersRepository,
      inject: [MONGO_CONNECTION, BuildSchemas, MigrationMetrics],
      useFactory: (connection: Connection, schemas: BuildSchemas, metrics: MigrationMetrics) =>
        createOrdersRepository(connection, {
          registry: schemas.registry,
          ...schemas.readRange(ORDERS_COLLECTION),
          writeVersion: () => schemas.writeVersion(ORDERS_COLLECTION),
          onUpcast: metrics.onUpcast,
        }),
    },
    {
      provide: CUSTOMERS_CLIENT,
      inject: [SERVICE_CONFIG],
      useFactory: (config: ServiceConfig<typeof ordersConfig>) => new CustomersClient({ baseUrl: config.CUSTOMERS_URL, timeoutMs: config.CUSTOMERS_TIMEOUT_MS }),
    },
    OrdersService,
  ],
})
export class OrdersModule {}
