// The `zdm` CLI's view of the auth hub:  npm run zdm -- --config apps/auth-hub/zdm.config.ts status
// Environment: MONGO_URL (required), MONGO_DB (default auth-hub), REDIS_URL (required: sessions),
// REDIS_PREFIX (default none, as the service has it), and for flag changes
// UNLEASH_URL + UNLEASH_ADMIN_TOKEN (without them phase changes only record the flags in the audit log).
import { AUTH_SERVICE, authMigrationsFor, authRegistry } from '@zdm/auth-domain';
import { mongoZdmConfig } from '@zdm/migrations-nest';
import { createRedisBackend } from '@zdm/migrations-redis';
import Redis from 'ioredis';

const data = { redisPrefix: process.env['REDIS_PREFIX']?.trim() ?? '' };

/** The migrations of the auth hub, validated, as its build registers them (session keys under REDIS_PREFIX). */
export const registry = authRegistry(data);

const zdm = mongoZdmConfig({
  service: AUTH_SERVICE,
  migrations: authMigrationsFor(data),
  registry,
  // Users (and the control store) live in MongoDB, sessions in Redis.
  otherStores: async (env, store) => {
    const url = env['REDIS_URL']?.trim();
    if (!url) throw new Error(`REDIS_URL is required by the ${AUTH_SERVICE} zdm config`);
    const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2 });
    await redis.connect();
    return { backends: { redis: createRedisBackend({ redis, store, registry }) }, close: () => redis.quit().then(() => undefined) };
  },
});

/** Opens the auth hub's database (users and control store), its Redis (sessions) and Unleash's Admin API from `env`. */
export const connect = zdm.connect;

export default zdm.config;
