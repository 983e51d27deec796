import Redis from 'ioredis';
import { describeIntegration } from '../index';


describeIntegration('Redis (smoke)', ['redis'], (services) => {
  let redis: Redis;

  beforeAll(async () => {
    redis = new Redis(services.redis.url, { keyPrefix: services.redisPrefix, maxRetriesPerRequest: 2 });
    const version = /redis_version:(\S+)/.exec(await redis.info('server'))?.[1];
    console.info(`[smoke] redis: Redis ${version} via ${services.redis.source} (${services.redis.description})`);
  });

  afterAll(async () => {
    await redis?.quit();
  });

  it('round-trips a key and its TTL', async () => {
    await redis.set('greeting', 'hello', 'EX', 60);
    expect(await redis.get('greeting')).toBe('hello');
    const ttl = await redis.ttl('greeting');
    expect(ttl).toBeGreaterThan(50);
    expect(ttl).toBeLessThanOrEqual(60);

    await redis.pexpire('greeting', 150);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await redis.get('greeting')).toBeNull();
  });
});
