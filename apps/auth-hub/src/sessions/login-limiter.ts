import { HttpException, HttpStatus, Inject, Injectable } from '@nestjs/common';
import { DependencyUnavailableError, SERVICE_CONFIG, ServiceConfig } from '@zdm/service-defaults';
import { createHash } from 'node:crypto';
import type Redis from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { authHubConfig } from '../app/auth-hub.config';
import { answerFromRedis, REDIS_CLIENT } from '../app/redis.module';

/** Too many login attempts: 429, and `Retry-After` says when the next one is let through. */
export class TooManyLoginAttemptsError extends HttpException {
  constructor(readonly retryAfterSeconds: number) {
    super({ message: `too many login attempts; try again in ${retryAfterSeconds} s` }, HttpStatus.TOO_MANY_REQUESTS);
  }
}

/** Redis keys name an account by a hash of its normalized address, so no address sits in Redis in clear. */
const accountKey = (email: string) => createHash('sha256').update(email).digest('base64url');

/**
 * Login attempts counted in Redis (rate-limiter-flexible, fixed windows shared by every instance):
 * per account (normalized e-mail, known or not, so the limit says nothing about which accounts
 * exist) and per client IP. Each attempt counts against both; a successful login clears its
 * account's count.
 */
@Injectable()
export class LoginLimiter {
  private readonly perAccount: RateLimiterRedis;
  private readonly perIp: RateLimiterRedis;

  constructor(@Inject(REDIS_CLIENT) redis: Redis, @Inject(SERVICE_CONFIG) config: ServiceConfig<typeof authHubConfig>) {
    const common = { storeClient: redis, useRedisPackage: false, rejectIfRedisNotReady: true, duration: config.LOGIN_WINDOW_SECONDS };
    this.perAccount = new RateLimiterRedis({ ...common, keyPrefix: `${config.REDIS_PREFIX}login:account`, points: config.LOGIN_ATTEMPTS_PER_ACCOUNT });
    this.perIp = new RateLimiterRedis({ ...common, keyPrefix: `${config.REDIS_PREFIX}login:ip`, points: config.LOGIN_ATTEMPTS_PER_IP });
  }

  /** Counts one attempt; {@link TooManyLoginAttemptsError} when the account or the IP is over its limit; 503 naming redis when it cannot count. */
  async attempt(email: string, ip: string): Promise<void> {
    const results = await answerFromRedis(() => Promise.allSettled([this.perAccount.consume(accountKey(email)), this.perIp.consume(ip)]));
    const limited = results.flatMap((r) => (r.status === 'rejected' && r.reason instanceof RateLimiterRes ? [r.reason] : []));
    for (const r of results) {
      // Anything but a verdict is the store failing: the attempt cannot be counted, so it is not let through.
      if (r.status === 'rejected' && !(r.reason instanceof RateLimiterRes)) throw new DependencyUnavailableError('redis', (r.reason as Error).message);
    }
    if (limited.length) throw new TooManyLoginAttemptsError(Math.max(1, ...limited.map((r) => Math.ceil(r.msBeforeNext / 1000))));
  }

  /** Clears the account's count after a successful login. */
  async succeeded(email: string): Promise<void> {
    await answerFromRedis(() => this.perAccount.delete(accountKey(email)));
  }
}
