import type { NestExpressApplication } from '@nestjs/platform-express';
import { integrationServices, TcpProxy, waitFor } from '@zdm/dev-services';
import request from 'supertest';
import { authHubEnv, startAuthHubApp } from '../testing/auth-hub-app.fixture';

jest.setTimeout(120_000);

const services = integrationServices(['mongo', 'redis']);

/** The answer a client gets while a store is out: 503, Retry-After, the dependency named. */
function expectUnavailable(res: request.Response, dependency: string) {
  expect({ status: res.status, retryAfter: res.headers['retry-after'], dependency: res.body.dependency }).toEqual({ status: 503, retryAfter: '1', dependency });
}

const through = (proxy: TcpProxy, url: string) => {
  const via = new URL(url);
  via.port = new URL(proxy.url).port;
  return via.toString();
};

describe('auth hub when a store goes away (FerretDB and redis-server behind TCP proxies)', () => {
  let mongoProxy: TcpProxy;
  let redisProxy: TcpProxy;
  let app: NestExpressApplication;
  let http: ReturnType<typeof request>;
  const credentials = { email: 'outage@example.com', password: 'correct horse battery' };

  beforeAll(async () => {
    const [mongo, redis] = [new URL(services.mongo.url), new URL(services.redis.url)];
    mongoProxy = await new TcpProxy({ host: mongo.hostname, port: Number(mongo.port) }).open();
    redisProxy = await new TcpProxy({ host: redis.hostname, port: Number(redis.port) }).open();
    app = await startAuthHubApp(
      authHubEnv(services, { MONGO_URL: through(mongoProxy, services.mongo.url), REDIS_URL: through(redisProxy, services.redis.url), REQUEST_TIMEOUT_MS: '2000' }),
    );
    http = request(app.getHttpServer());
    await http.post('/users').send(credentials).expect(201);
  });
  afterAll(async () => {
    await mongoProxy?.open();
    await redisProxy?.open();
    await app?.close();
    await mongoProxy?.cut();
    await redisProxy?.cut();
  });

  it('reports both stores in readiness', async () => {
    const ready = await http.get('/health/ready').expect(200);
    expect(ready.body.info).toEqual(expect.objectContaining({ mongo: expect.objectContaining({ status: 'up' }), redis: expect.objectContaining({ status: 'up' }) }));
  });

  it('answers 503 naming redis for login and refresh while Redis is unreachable, and serves again once it is back', async () => {
    const { refreshToken } = (await http.post('/sessions').send(credentials).expect(201)).body;
    await redisProxy.cut();
    try {
      expectUnavailable(await http.post('/sessions').send(credentials), 'redis');
      expectUnavailable(await http.post('/sessions/refresh').send({ refreshToken }), 'redis');
      const ready = await http.get('/health/ready').expect(503);
      expect(ready.body.error).toHaveProperty('redis');
    } finally {
      await redisProxy.open();
    }
    await waitFor('a refresh to succeed again', async () => (await http.post('/sessions/refresh').send({ refreshToken })).status === 200 || undefined, 20_000, 200);
  });

  it('answers 503 naming mongo for registration and login while MongoDB is unreachable, and serves again once it is back', async () => {
    await mongoProxy.cut();
    try {
      expectUnavailable(await http.post('/users').send({ email: 'during@example.com', password: 'correct horse battery' }), 'mongo');
      expectUnavailable(await http.post('/sessions').send(credentials), 'mongo');
    } finally {
      await mongoProxy.open();
    }
    await waitFor('a login to succeed again', async () => (await http.post('/sessions').send(credentials)).status === 201 || undefined, 30_000, 200);
  });
});
