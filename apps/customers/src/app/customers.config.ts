import { accessTokenConfig } from '@zdm/auth-guard';
import { mongoServiceConfig } from '@zdm/migrations-nest';
import { z } from 'zod';

/**
 * The customers service's own environment, merged over the service defaults (PORT, LOG_LEVEL, ...):
 * MONGO_URL, MONGO_DB (`customers`), UNLEASH_*, HEARTBEAT_INTERVAL_MS, BUILD, INSTANCE_ID, and
 * AUTH_JWKS_URL (required: writes need an access token from the auth hub) with AUTH_TOKEN_ISSUER/AUDIENCE.
 */
export const customersConfig = mongoServiceConfig('customers').extend(accessTokenConfig);

export type CustomersConfig = z.output<typeof customersConfig>;
