import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorFunction } from '@nestjs/terminus';

/**
 * A readiness check. Resolving (with nothing, `true` or an object of details) means ready;
 * throwing, rejecting or returning `false` means not ready.
 */
export type ReadinessCheck = () =>
  void | boolean | Record<string, unknown> | Promise<void | boolean | Record<string, unknown>>;

/** Options of one registered readiness check. */
export interface ReadinessCheckOptions {
  /** A check still pending after this long counts as down. Default 2000 ms. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 2_000;

/**
 * The checks behind `GET /health/ready`. Any module can contribute one, typically from
 * `onModuleInit`. The customers app registers its store like this (its mongoose `Connection` is
 * provided under its own token; `@nestjs/mongoose`, and so `@InjectConnection`, is not used here):
 *
 * ```ts
 * constructor(@Inject(MONGO_CONNECTION) private readonly connection: Connection, private readonly readiness: ReadinessRegistry) {}
 * onModuleInit() {
 *   this.readiness.register('mongo', () => this.connection.db?.admin().ping().then(() => undefined), { timeoutMs: 1_000 });
 * }
 * ```
 *
 * Readiness is down while any check is down, and always once shutdown has begun (the checks
 * are then skipped).
 */
@Injectable()
export class ReadinessRegistry {
  private readonly checks = new Map<string, { check: ReadinessCheck; timeoutMs: number }>();

  constructor(private readonly indicatorService: HealthIndicatorService) {}

  /**
   * Adds a check under a unique `name` (the key in the health response).
   * Returns a function that removes it again.
   */
  register(name: string, check: ReadinessCheck, options: ReadinessCheckOptions = {}): () => void {
    if (this.checks.has(name)) {
      throw new Error(`A readiness check named "${name}" is already registered`);
    }
    const entry = { check, timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS };
    this.checks.set(name, entry);
    return () => {
      if (this.checks.get(name) === entry) this.checks.delete(name);
    };
  }

  /** Names of the registered checks, in registration order. */
  names(): string[] {
    return [...this.checks.keys()];
  }

  /** One terminus indicator per registered check, each bounded by its timeout. */
  indicators(): HealthIndicatorFunction[] {
    return [...this.checks].map(([name, { check, timeoutMs }]) => async () => {
      const indicator = this.indicatorService.check(name);
      try {
        const outcome = await withTimeout(Promise.resolve().then(check), timeoutMs);
        if (outcome === false) return indicator.down({ message: 'check returned false' });
        return typeof outcome === 'object' && outcome !== null ? indicator.up(outcome) : indicator.up();
      } catch (error) {
        return indicator.down({ message: error instanceof Error ? error.message : String(error) });
      }
    });
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
