import { accessTokenConfig } from '@zdm/auth-guard';
import { envInt } from '@zdm/service-defaults';
import { mongoServiceConfig } from '@zdm/migrations-nest';
import { z } from 'zod';

/**
 * The orders service's own environment, merged over the service defaults (PORT, LOG_LEVEL, ...):
 * MongoDB, Unleash and heartbeats as every migrating service has them, the customers API, and the
 * auth hub's keys (AUTH_JWKS_URL, required: writes need an access token).
 */
export const ordersConfig = mongoServiceConfig('orders').extend({
  ...accessTokenConfig,
  /** Base URL of the customers API, e.g. `http://customers:3000`; orders check their customer there. */
  CUSTOMERS_URL: z.url(),
  /** Longest wait for one answer of the customers API (the request's own deadline may cut it shorter), in ms. */
  CUSTOMERS_TIMEOUT_MS: envInt(50, 60_000).default(2_000),
});

export type OrdersConfig = z.output<typeof ordersConfig>;
