import { Module } from '@nestjs/common';
import { CUSTOMERS_COLLECTION, CUSTOMERS_SERVICE, customersReadRange, customersRegistry } from '@zdm/customers-domain';
import { createMongoControlStore } from '@zdm/migrations-mongo';
import { MigrationsModule } from '@zdm/migrations-nest';
import { SERVICE_CONFIG, ServiceConfig, ServiceDefaultsModule } from '@zdm/service-defaults';
import type { Connection } from 'mongoose';
import { CustomersModule } from '../customers/customers.module';
import { customersConfig } from './customers.config';
import { DatabaseModule, MONGO_CONNECTION } from './database.module';
import { customersServiceOptions } from './service-options';

const registry = customersRegistry();

/** Options of the migration module from the config: heartbeats, flags (Unleash), read-compatibility readiness. */
export function migrationsOptions(config: ServiceConfig<typeof customersConfig>, connection: Connection) {
  const { UNLEASH_URL: url, UNLEASH_CLIENT_TOKEN: token } = config;
  if (url && !token) throw new Error('UNLEASH_URL is set, so UNLEASH_CLIENT_TOKEN must be set too');
  const db = connection.db;
  if (!db) throw new Error('the MongoDB connection is not open');
  return {
    service: CUSTOMERS_SERVICE,
    build: config.BUILD,
    registry,
    targets: { [CUSTOMERS_COLLECTION]: customersReadRange(registry) },
    controlStore: () => createMongoControlStore(db),
    unleash: url && token ? { url, token, refreshIntervalMs: config.UNLEASH_REFRESH_MS } : undefined,
    instanceId: config.INSTANCE_ID,
    heartbeat: { intervalMs: config.HEARTBEAT_INTERVAL_MS },
    apiVersion: customersServiceOptions.version,
  };
}

@Module({
  imports: [
    ServiceDefaultsModule.forRoot({ config: customersConfig }),
    DatabaseModule,
    MigrationsModule.forRootAsync({ inject: [SERVICE_CONFIG, MONGO_CONNECTION], useFactory: migrationsOptions }),
    CustomersModule,
  ],
})
export class AppModule {}
