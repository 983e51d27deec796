import { mongoServiceConfig } from '@zdm/migrations-nest';
import { z } from 'zod';

/**
 * The customers service's own environment, merged over the service defaults (PORT, LOG_LEVEL, ...):
 * MONGO_URL, MONGO_DB (`customers`), UNLEASH_*, HEARTBEAT_INTERVAL_MS, BUILD, INSTANCE_ID.
 */
export const customersConfig = mongoServiceConfig('customers');

export type CustomersConfig = z.output<typeof customersConfig>;
