import { z } from 'zod';

/** Log levels accepted by `LOG_LEVEL` (pino's, plus `silent`). */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * A whole-number environment variable (`"8080"` -> `8080`), within `[min, max]`.
 * Unlike `z.coerce.number()` it rejects `""`, `"1.5"` and `"12abc"`.
 */
export function envInt(min = 0, max = Number.MAX_SAFE_INTEGER) {
  return z
    .string()
    .trim()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().min(min).max(max));
}

/**
 * Variables every service understands. A service's own schema is merged on top of
 * it (and may override an entry, e.g. to change a default).
 */
export const commonConfigSchema = z.object({
  /** TCP port of the HTTP server (`0` picks a free one). */
  PORT: envInt(0, 65535).default(3000),
  /** Minimum level of the JSON logs. */
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  /** After SIGTERM: how long readiness reports 503 before the server stops accepting connections. */
  SHUTDOWN_DRAIN_MS: envInt().default(5_000),
  /** After SIGTERM: the hard limit for the whole shutdown; past it, open connections are cut and the process exits 1. */
  SHUTDOWN_TIMEOUT_MS: envInt(1).default(30_000),
  /**
   * Each request's deadline, from its arrival: past it the request is answered 503 (naming the
   * dependency it waited on) or 504, and store queries carry the time left as `maxTimeMS`.
   */
  REQUEST_TIMEOUT_MS: envInt(100, 600_000).default(5_000),
  /** Largest accepted request body (JSON or form), in body-parser's notation: `100kb`, `1mb`, `512`. */
  HTTP_BODY_LIMIT: z
    .string()
    .trim()
    .regex(/^\d+\s*(b|kb|mb)?$/i, 'must be a size such as 100kb or 1mb')
    .default('100kb'),
});

/** The schema of a service's own variables (a plain `z.object({...})`). */
export type ServiceConfigSchema = z.ZodObject;

/** The common variables, validated. */
export type CommonConfig = z.output<typeof commonConfigSchema>;

/**
 * The validated, typed configuration: the common variables plus the service's own
 * (`ServiceConfig<typeof customersConfig>`); a service entry replaces a common one of the same name.
 */
export type ServiceConfig<S extends ServiceConfigSchema = z.ZodObject<Record<never, never>>> =
  // An empty or untyped schema infers as `Record<string, ...>`: nothing to add then.
  string extends keyof z.output<S> ? CommonConfig : Omit<CommonConfig, keyof z.output<S>> & z.output<S>;
