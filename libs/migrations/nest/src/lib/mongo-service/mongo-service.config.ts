import { envInt } from '@zdm/service-defaults';
import { z } from 'zod';

/**
 * The environment of a service that keeps its data and its migration control records in one
 * MongoDB database, merged over the service defaults (PORT, LOG_LEVEL, ...). `service` names the
 * default database.
 */
export function mongoServiceConfig(service: string) {
  return z.object({
    /** MongoDB (or FerretDB) URL, e.g. `mongodb://127.0.0.1:27017`. */
    MONGO_URL: z.string().trim().regex(/^mongodb(\+srv)?:\/\/\S+$/, 'must be a mongodb:// URL'),
    /** Database holding the service's documents and their migration control records. */
    MONGO_DB: z.string().trim().regex(/^[A-Za-z0-9_-]{1,63}$/, 'must be 1-63 letters, digits, _ or -').default(service),
    /** Unleash URL (base or `/api`); without it the migration flags keep their safe defaults. */
    UNLEASH_URL: z.url().optional(),
    /** Unleash backend (client) API token; required with UNLEASH_URL. */
    UNLEASH_CLIENT_TOKEN: z.string().trim().min(1).optional(),
    /** How often flags are polled from Unleash, in ms. */
    UNLEASH_REFRESH_MS: envInt(100, 600_000).default(5_000),
    /** How often this instance writes its heartbeat to the control store, in ms. */
    HEARTBEAT_INTERVAL_MS: envInt(50, 60_000).default(5_000),
    /** This build's name in heartbeats, e.g. a release name or git sha. */
    BUILD: z.string().trim().min(1).default('dev'),
    /** This instance's id in heartbeats; default `<service>-<host>-<pid>-<random>`. */
    INSTANCE_ID: z.string().trim().min(1).optional(),
  });
}

/** The variables of {@link mongoServiceConfig}, validated. */
export type MongoServiceConfig = z.output<ReturnType<typeof mongoServiceConfig>>;
