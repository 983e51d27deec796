// The `zdm` CLI's view of the orders service:  npm run zdm -- --config apps/orders/zdm.config.ts status
// Environment: MONGO_URL (required), MONGO_DB (default orders), and for flag changes
// UNLEASH_URL + UNLEASH_ADMIN_TOKEN (without them phase changes only record the flags in the audit log),
// and CUSTOMERS_URL: orders.customer-snapshot waits for customers.full-name, asked at its schema endpoint.
import { ORDERS_SERVICE, ordersMigrations, ordersRegistry } from '@zdm/orders-domain';
import { mongoZdmConfig } from '@zdm/migrations-nest';

/** The migrations of the orders service, validated, as its build registers them. */
export const registry = ordersRegistry();

const zdm = mongoZdmConfig({
  service: ORDERS_SERVICE,
  migrations: ordersMigrations,
  registry,
  schemaUrls: (env): Record<string, string> => (env['CUSTOMERS_URL']?.trim() ? { customers: env['CUSTOMERS_URL'].trim() } : {}),
});

/** Opens the orders database (data and control store) and Unleash's Admin API from `env`. */
export const connect = zdm.connect;

export default zdm.config;
