import { envInt } from '@zdm/service-defaults';
import { mongoServiceConfig } from '@zdm/migrations-nest';
import { z } from 'zod';

/**
 * The orders service's own environment, merged over the service defaults (PORT, LOG_LEVEL, ...):
 * MongoDB, Unleash and heartbeats as every migrating service has them, and the customers API.
 */
export const ordersConfig = mongoServiceConfig('orders').extend({
  /** Base URL of the customers API, e.g. `http://customers:3000`; orders check their customer there. */
  CUSTOMERS_URL: z.url(),
  /** Longest wait for one answer of the customers API (the request's own deadline may cut it shorter), in ms. */
  CUSTOMERS_TIMEOUT_MS: envInt(50, 60_000).default(2_000),
});

export type OrdersConfig = z.output<typeof ordersConfig>;
