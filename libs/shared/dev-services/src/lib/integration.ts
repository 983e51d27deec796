import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { describeServices, startServices, type Services } from './services';
import type { ServiceMap, ServiceName, StartOptions } from './types';

/** Jest's path of the running spec file, if any. */
function currentTestFile(): string | undefined {
  const state = (globalThis as { expect?: { getState?: () => { testPath?: string } } }).expect?.getState?.();
  return state?.testPath;
}

/** `<label>_<time>_<random>`: lower-case, [a-z0-9_], at most 45 characters. */
export function uniqueSuiteId(label?: string): string {
  const base = label ?? path.basename(currentTestFile() ?? 'suite').replace(/\.(int-)?spec\.ts$/, '');
  const slug = base.toLowerCase().replace(/[^a-z0-9]+/g, '_').slice(0, 24).replace(/^_+|_+$/g, '') || 'suite';
  return `${slug}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
}

/** A MongoDB database name of its own for a suite sharing a server (valid, < 64 bytes). */
export const uniqueMongoDbName = (label?: string): string => `zdm_${uniqueSuiteId(label)}`;

/** A Redis key prefix of its own for a suite sharing a server, e.g. `zdm:orders_lx2k_1a2b3c4d:`. */
export const uniqueRedisPrefix = (label?: string): string => `zdm:${uniqueSuiteId(label)}:`;

/**
 * Whether integration suites are skipped: only with an explicit ZDM_SKIP_INTEGRATION=1,
 * and never under CI=true (there the suites run and fail if services are missing).
 */
export function shouldSkipIntegration(): boolean {
  const requested = process.env.ZDM_SKIP_INTEGRATION === '1' || process.env.ZDM_SKIP_INTEGRATION === 'true';
  return requested && process.env.CI !== 'true';
}

export type IntegrationServices<K extends ServiceName> = { readonly [P in K]: ServiceMap[P] } & {
  /** Unique per call: use it as this suite's database on a shared server. */
  readonly mongoDbName: string;
  /** Unique per call: prefix every Redis key of this suite with it. */
  readonly redisPrefix: string;
};

export interface IntegrationOptions extends StartOptions {
  /** Label for the unique names and the log line (default: spec file name). */
  label?: string;
  /** beforeAll timeout in ms (default 240 s). */
  startTimeoutMs?: number;
}

const SKIP_HINT =
  'Integration suites need these services. To skip them locally set ZDM_SKIP_INTEGRATION=1 ' +
  '(skips suites written with describeIntegration; ignored under CI=true).';

/** Registers the start (beforeAll) now; the stop (afterAll) when `registerStop` is called. */
function setupIntegration<K extends ServiceName>(names: readonly K[], opts: IntegrationOptions) {
  let running: Services | undefined;
  let startError: string | undefined;

  beforeAll(async () => {
    if (process.env.CI === 'true' && process.env.ZDM_SKIP_INTEGRATION) {
      console.warn('[dev-services] ZDM_SKIP_INTEGRATION is ignored because CI=true');
    }
    try {
      running = await startServices(names, opts);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      startError = message.split('\n')[0];
      throw new Error(`${message}\n\n${SKIP_HINT}`);
    }
    console.info(`[dev-services] ${opts.label ?? path.basename(currentTestFile() ?? '')}: ${describeServices(running)}`);
  }, opts.startTimeoutMs ?? 240_000);

  const services = { mongoDbName: uniqueMongoDbName(opts.label), redisPrefix: uniqueRedisPrefix(opts.label) } as Record<string, unknown>;
  for (const name of names) {
    Object.defineProperty(services, name, {
      enumerable: true,
      get: () => {
        const service = running?.[name];
        if (!service) {
          throw new Error(
            startError
              ? `integrationServices: ${name} did not start (${startError}; details in the first error)`
              : `integrationServices: ${name} is not started yet; read it inside tests or later hooks, not at describe time`,
          );
        }
        return service;
      },
    });
  }
  const registerStop = () =>
    afterAll(async () => {
      await running?.stop();
    }, 60_000);
  return { services: services as IntegrationServices<K>, registerStop };
}

/**
 * For the top of an `*.int-spec.ts` (or inside a describe): starts or finds the services
 * in beforeAll, stops what it started in afterAll, and returns an object whose service
 * properties can be read once beforeAll has run. If a service is unavailable the suite
 * fails with instructions; to make a suite skippable use describeIntegration.
 * Jest runs afterAll hooks of one block in declaration order, so hooks declared after
 * this call run after the services stopped: close clients in a nested describe, or use
 * describeIntegration, which stops the services after the suite's own hooks.
 *
 *   const services = integrationServices(['mongo', 'redis']);
 *   it('works', async () => { await mongoose.connect(services.mongo.url, { dbName: services.mongoDbName }); });
 */
export function integrationServices<K extends ServiceName>(names: readonly K[], opts: IntegrationOptions = {}): IntegrationServices<K> {
  const { services, registerStop } = setupIntegration(names, opts);
  registerStop();
  return services;
}

/**
 * `describe` with integration services, the recommended form: skipped (describe.skip)
 * only when shouldSkipIntegration(); otherwise like integrationServices, except that the
 * services stop after the suite's own afterAll hooks.
 */
export function describeIntegration<K extends ServiceName>(
  title: string,
  names: readonly K[],
  fn: (services: IntegrationServices<K>) => void,
  opts: IntegrationOptions = {},
): void {
  const run = shouldSkipIntegration() ? describe.skip : describe;
  run(title, () => {
    const { services, registerStop } = setupIntegration(names, { label: title, ...opts });
    fn(services);
    registerStop(); // after the suite's own afterAll hooks, which may still use the services
  });
}
