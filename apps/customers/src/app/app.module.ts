import { Module } from '@nestjs/common';
import { AuthGuardModule, verifierOptionsFromConfig } from '@zdm/auth-guard';
import { CUSTOMERS_COLLECTION, CUSTOMERS_SERVICE, customersReadRange, customersRegistry } from '@zdm/customers-domain';
import { MigrationsModule, MONGO_CONNECTION, MongoDatabaseModule, mongoMigrationsOptions } from '@zdm/migrations-nest';
import { SERVICE_CONFIG, ServiceConfig, ServiceDefaultsModule } from '@zdm/service-defaults';
import type { Connection } from 'mongoose';
import { CustomersModule } from '../customers/customers.module';
import { customersConfig } from './customers.config';
import { customersServiceOptions } from './service-options';

const registry = customersRegistry();

@Module({
  imports: [
    ServiceDefaultsModule.forRoot({ config: customersConfig }),
    // Writes need an access token from the auth hub; its keys are fetched from AUTH_JWKS_URL.
    AuthGuardModule.forRootAsync({ inject: [SERVICE_CONFIG], useFactory: (config: ServiceConfig<typeof customersConfig>) => verifierOptionsFromConfig(config) }),
    MongoDatabaseModule,
    MigrationsModule.forRootAsync({
      inject: [SERVICE_CONFIG, MONGO_CONNECTION],
      useFactory: (config: ServiceConfig<typeof customersConfig>, connection: Connection) =>
        mongoMigrationsOptions(config, connection, {
          service: CUSTOMERS_SERVICE,
          registry,
          targets: { [CUSTOMERS_COLLECTION]: customersReadRange(registry) },
          apiVersion: customersServiceOptions.version,
        }),
    }),
    CustomersModule,
  ],
})
export class AppModule {}
