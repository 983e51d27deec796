import { Global, Inject, Injectable, Module, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { DependencyUnavailableError, ReadinessRegistry, SERVICE_CONFIG, ServiceConfig, waitingOn } from '@zdm/service-defaults';
import Redis from 'ioredis';
import { authHubConfig } from './auth-hub.config';

/** Injection token of the service's ioredis client. */
export const REDIS_CLIENT = Symbol('auth-hub:REDIS_CLIENT');

/** How long startup keeps trying to reach Redis before it fails naming the reason. */
const STARTUP_CONNECT_MS = 30_000;

/**
 * Connects to Redis. Commands fail fast while the connection is down (no offline queue, one retry,
 * 1 s command timeout), so a request answers 503 naming `redis` instead of hanging; the client
 * keeps reconnecting in the background.
 */
export async function openRedis(config: ServiceConfig<typeof authHubConfig>): Promise<Redis> {
  const redis = new Redis(config.REDIS_URL, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 1_000, connectTimeout: 2_000 });
  redis.on('error', () => undefined); // reported through readiness and 503s, not as unhandled events
  const giveUpAt = Date.now() + STARTUP_CONNECT_MS;
  for (;;) {
    try {
      await redis.connect();
      return redis;
    } catch (error) {
      if (Date.now() >= giveUpAt) {
        redis.disconnect();
        throw new Error(`Redis at REDIS_URL cannot be reached: ${(error as Error).message}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

/**
 * Runs `work` against Redis: a request still in it at its deadline is a 503 naming `redis`, and
 * any Redis failure (down, too slow) is a 503 naming `redis` with Retry-After.
 */
export async function answerFromRedis<T>(work: () => Promise<T>): Promise<T> {
  const done = waitingOn('redis');
  try {
    return await work();
  } catch (err) {
    if (isRedisFailure(err)) throw new DependencyUnavailableError('redis', (err as Error).message);
    throw err;
  } finally {
    done();
  }
}

const REDIS_FAILURE = /Connection is closed|Stream isn't writeable|enableOfflineQueue|Command timed out|max retries|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|LOADING|READONLY|BUSY|MASTERDOWN|CLUSTERDOWN/i;

/** Whether `err` is Redis failing (as opposed to a bug or a refused answer of this service). */
function isRedisFailure(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  return err.name === 'ReplyError' || err.name === 'MaxRetriesPerRequestError' || REDIS_FAILURE.test(err.message);
}

/** Registers the `redis` readiness check, and closes the client at shutdown. */
@Injectable()
export class RedisLifecycle implements OnModuleInit, OnApplicationShutdown {
  constructor(
    @Inject(REDIS_CLIENT) private readonly redis: Redis,
    private readonly readiness: ReadinessRegistry,
  ) {}

  onModuleInit() {
    this.readiness.register('redis', () => this.redis.ping().then(() => undefined), { timeoutMs: 1_000 });
  }

  async onApplicationShutdown() {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

/** The service's one Redis client: sessions and login rate limits. */
@Global()
@Module({
  providers: [{ provide: REDIS_CLIENT, inject: [SERVICE_CONFIG], useFactory: openRedis }, RedisLifecycle],
  exports: [REDIS_CLIENT],
})
export class RedisModule {}
