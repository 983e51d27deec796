import { type z } from 'zod';
import { commonConfigSchema, type ServiceConfig, type ServiceConfigSchema } from './service-config.schema';

/** One rejected environment variable. */
export interface ConfigProblem {
  /** The variable's name, e.g. `MONGO_URL`. */
  variable: string;
  /** What is wrong with it, e.g. `is required`. */
  message: string;
}

/** Thrown when the environment does not satisfy the schema; lists every bad variable at once. */
export class ConfigValidationError extends Error {
  constructor(readonly problems: readonly ConfigProblem[]) {
    super(
      `Invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((p) => `  - ${p.variable}: ${p.message}`).join('\n'),
    );
    this.name = 'ConfigValidationError';
  }
}

/**
 * Validates `env` against the common schema merged with the service's `schema` and
 * returns the typed, frozen result. Empty strings count as unset, so defaults apply
 * and required variables are reported as missing.
 *
 * @throws ConfigValidationError naming every missing or invalid variable.
 */
export function loadServiceConfig<S extends ServiceConfigSchema>(
  schema?: S,
  env: NodeJS.ProcessEnv = process.env,
): ServiceConfig<S> {
  const merged = schema ? commonConfigSchema.extend(schema.shape) : commonConfigSchema;
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const result = merged.safeParse(present);
  if (!result.success) throw new ConfigValidationError(describeIssues(result.error.issues, present));
  return Object.freeze(result.data) as ServiceConfig<S>;
}

function describeIssues(issues: readonly z.core.$ZodIssue[], env: Record<string, unknown>): ConfigProblem[] {
  return issues.map((issue) => {
    const variable = issue.path.map(String).join('.') || '(root)';
    const missing = issue.code === 'invalid_type' && env[String(issue.path[0])] === undefined;
    return { variable, message: missing ? 'is required' : issue.message };
  });
}
