import { ThrottleOptions } from './adaptive-throttle';
import { FlagAdmin } from './phase-machine';
import { MigrationDefinition } from './migration.types';
import { MigrationBackend } from './migrator';
import { ServiceSchemas } from './service-schema';

/** What `connect()` hands the CLI: the service's store adapter, its flag admin, and a way to hang up. */
export interface ZdmConnection {
  /** Control records and data access, e.g. `createMongoBackend(...)` from `@zdm/migrations-mongo`. */
  backend: MigrationBackend;
  /** Changes flags on phase changes (e.g. Unleash's Admin API); without it flags are only audited. */
  flags?: FlagAdmin;
  /**
   * How gates ask other services about their migrations, for migrations that declare `requires`,
   * e.g. `new HttpServiceSchemas({ urls: { customers: env.CUSTOMERS_URL } })`.
   */
  schemas?: ServiceSchemas;
  /** Closes connections so the process can exit. */
  close(): Promise<void>;
}

/**
 * The module passed to `zdm --config <file>` (or `ZDM_CONFIG`) exports one of these, as `default`,
 * as `config`, or as the module itself; it may also export a (possibly async) function returning one.
 *
 * ```ts
 * export default defineConfig({
 *   service: 'customers',
 *   migrations: [fullName],
 *   connect: async () => {
 *     const conn = await mongoose.createConnection(process.env.MONGO_URL!).asPromise();
 *     return { backend: createMongoBackend({ db: conn.db! }), close: () => conn.close() };
 *   },
 * });
 * ```
 */
export interface ZdmConfig {
  /** The service whose database holds the data and the control store. Every migration must belong to it. */
  service: string;
  /** Every migration the service's build registers, explicitly (nothing is globbed). */
  migrations: readonly MigrationDefinition[];
  /** Opens the service's database; called once per command, closed when it ends. */
  connect(): Promise<ZdmConnection>;
  /** Fewest live instances a gate requires. Default 1. */
  minInstances?: number;
  /** Batch size and pause tuning for runners started by this CLI. */
  throttle?: ThrottleOptions;
  /** Lease lifetime of runners started by this CLI, in ms. Default 15000. */
  leaseTtlMs?: number;
}

/** Declares a config module with type checking; returns its argument. */
export function defineConfig(config: ZdmConfig): ZdmConfig {
  return config;
}

