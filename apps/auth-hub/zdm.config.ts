// The `zdm` CLI's view of the auth hub:  npm run zdm -- --config apps/auth-hub/zdm.config.ts status
// Environment: MONGO_URL (required), MONGO_DB (default auth-hub), and for flag changes
// UNLEASH_URL + UNLEASH_ADMIN_TOKEN (without them phase changes only record the flags in the audit log).
import { AUTH_SERVICE, authMigrations, authRegistry } from '@zdm/auth-domain';
import { mongoZdmConfig } from '@zdm/migrations-nest';

/** The migrations of the auth hub, validated, as its build registers them. */
export const registry = authRegistry();

const zdm = mongoZdmConfig({ service: AUTH_SERVICE, migrations: authMigrations, registry });

/** Opens the auth hub's database (users and control store) and Unleash's Admin API from `env`. */
export const connect = zdm.connect;

export default zdm.config;
