import { descriptionVar } from './common-strategies';
import { startMongo } from './mongo';
import { startRedis } from './redis';
import type { ServiceMap, ServiceName, StartOptions } from './types';
import { startUnleash } from './unleash';

export const SERVICE_NAMES: readonly ServiceName[] = ['mongo', 'redis', 'unleash'];

const starters: { [K in ServiceName]: (opts: StartOptions) => Promise<ServiceMap[K]> } = {
  mongo: startMongo,
  redis: startRedis,
  unleash: startUnleash,
};

export type ServiceSelection = Partial<Record<ServiceName, boolean>>;

export interface StartServicesOptions extends StartOptions {
  /** Keep the services that started when others fail (failures are reported in `failures`). Default false: throw. */
  allowPartial?: boolean;
}

export type Services = Partial<ServiceMap> & {
  /** Services that could not start (only with allowPartial). */
  failures: Partial<Record<ServiceName, Error>>;
  /** Stops everything this call started. Idempotent. */
  stop(): Promise<void>;
};

/** Names selected in `which`; all when none is given. */
export function selectedNames(which: ServiceSelection | readonly ServiceName[] = {}): ServiceName[] {
  const names = Array.isArray(which) ? which : SERVICE_NAMES.filter((n) => (which as ServiceSelection)[n]);
  return names.length ? [...names] : [...SERVICE_NAMES];
}

/**
 * Starts (or finds) the selected services in parallel, e.g.
 * `startServices({ mongo: true, redis: true })` or `startServices(['unleash'])`.
 * Default: all three. If one fails, the others are stopped and the error is thrown
 * (unless `allowPartial`).
 */
export async function startServices(which: ServiceSelection | readonly ServiceName[] = {}, opts: StartServicesOptions = {}): Promise<Services> {
  const names = selectedNames(which);
  const results = await Promise.allSettled(names.map((name) => starters[name](opts)));
  const services: Partial<ServiceMap> = {};
  const failures: Partial<Record<ServiceName, Error>> = {};
  results.forEach((result, i) => {
    const name = names[i];
    if (result.status === 'fulfilled') Object.assign(services, { [name]: result.value });
    else failures[name] = result.reason instanceof Error ? result.reason : new Error(String(result.reason));
  });
  let stopped: Promise<void> | undefined;
  const stop = () => (stopped ??= Promise.all(Object.values(services).map((s) => s.stop())).then(() => undefined));
  const failed = Object.values(failures);
  if (failed.length && !opts.allowPartial) {
    await stop();
    throw failed.length === 1 ? failed[0] : new Error(failed.map((e) => e.message).join('\n\n'));
  }
  return { ...services, failures, stop };
}

/**
 * Environment variables that make child processes (tests, apps) use these services:
 * MONGO_URL, REDIS_URL, UNLEASH_URL, UNLEASH_API_URL, UNLEASH_ADMIN_TOKEN, UNLEASH_CLIENT_TOKEN,
 * plus ZDM_*_DESCRIPTION so that they can say which server they talk to.
 */
export function serviceEnv(services: Partial<ServiceMap>): Record<string, string> {
  const env: Record<string, string> = {};
  const { mongo, redis, unleash } = services;
  if (mongo) env.MONGO_URL = mongo.url;
  if (redis) env.REDIS_URL = redis.url;
  if (unleash) {
    Object.assign(env, {
      UNLEASH_URL: unleash.url,
      UNLEASH_API_URL: unleash.apiUrl,
      UNLEASH_ADMIN_TOKEN: unleash.adminToken,
      UNLEASH_CLIENT_TOKEN: unleash.clientToken,
    });
  }
  for (const name of SERVICE_NAMES) {
    const service = services[name];
    const description = service?.source === 'env' ? process.env[descriptionVar(name)] : service?.description;
    if (description) env[descriptionVar(name)] = description;
  }
  return env;
}

/** One line: `mongo=<description> [source], redis=..., unleash=...`. */
export function describeServices(services: Partial<ServiceMap>): string {
  return SERVICE_NAMES.filter((n) => services[n])
    .map((n) => `${n}=${services[n]?.description} [${services[n]?.source}]`)
    .join(', ');
}
