import { Module } from '@nestjs/common';
import { AuthGuardModule, verifierOptionsFromConfig } from '@zdm/auth-guard';
import { ORDERS_COLLECTION, ORDERS_SERVICE, ordersReadRange, ordersRegistry } from '@zdm/orders-domain';
import { MigrationsModule, MONGO_CONNECTION, MongoDatabaseModule, mongoMigrationsOptions } from '@zdm/migrations-nest';
import { SERVICE_CONFIG, ServiceConfig, ServiceDefaultsModule } from '@zdm/service-defaults';
import type { Connection } from 'mongoose';
import { OrdersModule } from '../orders/orders.module';
import { ordersConfig } from './orders.config';
import { ordersServiceOptions } from './service-options';

const registry = ordersRegistry();

@Module({
  imports: [
    ServiceDefaultsModule.forRoot({ config: ordersConfig }),
    // Writes need an access token from the auth hub; its keys are fetched from AUTH_JWKS_URL.
    AuthGuardModule.forRootAsync({ inject: [SERVICE_CONFIG], useFactory: (config: ServiceConfig<typeof ordersConfig>) => verifierOptionsFromConfig(config) }),
    MongoDatabaseModule,
    MigrationsModule.forRootAsync({
      inject: [SERVICE_CONFIG, MONGO_CONNECTION],
      useFactory: (config: ServiceConfig<typeof ordersConfig>, connection: Connection) =>
        mongoMigrationsOptions(config, connection, {
          service: ORDERS_SERVICE,
          registry,
          targets: { [ORDERS_COLLECTION]: ordersReadRange(registry) },
          apiVersion: ordersServiceOptions.version,
        }),
    }),
    OrdersModule,
  ],
})
export class AppModule {}
