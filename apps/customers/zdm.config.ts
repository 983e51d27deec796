// The `zdm` CLI's view of the customers service:  npm run zdm -- --config apps/customers/zdm.config.ts status
// Environment: MONGO_URL (required), MONGO_DB (default customers), and for flag changes
// UNLEASH_URL + UNLEASH_ADMIN_TOKEN (without them phase changes only record the flags in the audit log).
import { CUSTOMERS_SERVICE, customersMigrations, customersRegistry } from '@zdm/customers-domain';
import { mongoZdmConfig } from '@zdm/migrations-nest';

/** The migrations of the customers service, validated, as its build registers them. */
export const registry = customersRegistry();

const zdm = mongoZdmConfig({ service: CUSTOMERS_SERVICE, migrations: customersMigrations, registry });

/** Opens the customers database (data and control store) and Unleash's Admin API from `env`. */
export const connect = zdm.connect;

export default zdm.config;
