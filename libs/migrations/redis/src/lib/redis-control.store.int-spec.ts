import type Redis from 'ioredis';
import { describeControlStore } from '@zdm/migrations-core/testing';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestRedis, TestRedis } from '../test/redis-server.fixture';
import { createRedisControlStore } from './redis-control.store';

let server: TestRedis;
let redis: Redis;
let cases = 0;

beforeAll(async () => {
  server = await startTestRedis('control-store');
  redis = server.client();
});
afterAll(() => server.stop());

// Each case gets keys of its own (a prefix per case) on the suite's server. Lease expiry is kept by
// the server (key TTLs) in real time: a timer may fire a millisecond early, and Redis expires a key
// only once its last millisecond has passed, hence the 10 ms more.
describeControlStore('Redis', () => ({ store: createRedisControlStore(redis, { prefix: `${server.prefix}c${++cases}:zdm:` }), now: Date.now, elapse: (ms) => sleep(ms + 10) }), {
  exactTime: false,
});
