import type { NestExpressApplication } from '@nestjs/platform-express';
import { TcpProxy, integrationServices } from '@zdm/dev-services';
import request from 'supertest';
import { authorizedHttp, startCustomersApp } from '../testing/customers-app.fixture';
import { waitFor } from '@zdm/migrations-core/testing';

jest.setTimeout(90_000);

const services = integrationServices(['mongo']);

/** The answer a client gets while the store is out: 503, Retry-After, the dependency named. */
function expectStoreUnavailable(res: request.Response) {
  expect({ status: res.status, retryAfter: res.headers['retry-after'], dependency: res.body.dependency }).toEqual({
    status: 503,
    retryAfter: '1',
    dependency: 'mongo',
  });
  expect(res.body.message).toMatch(/^mongo is unavailable: /);
}

describe('customers when its store goes away (FerretDB behind a TCP proxy)', () => {
  let proxy: TcpProxy;
  let app: NestExpressApplication;
  let http: ReturnType<typeof request>;
  let id: string;

  beforeAll(async () => {
    const { hostname, port } = new URL(services.mongo.url);
    proxy = await new TcpProxy({ host: hostname, port: Number(port) }).open();
    const viaProxy = new URL(services.mongo.url);
    viaProxy.port = new URL(proxy.url).port;
    app = await startCustomersApp({ MONGO_URL: viaProxy.toString(), MONGO_DB: services.mongoDbName, REQUEST_TIMEOUT_MS: '1500' });
    http = await authorizedHttp(app);
    id = (await http.post('/customers').send({ firstName: 'Ada', lastName: 'Lovelace' }).expect(201)).body.id;
  });
  afterAll(async () => {
    proxy?.resume();
    await proxy?.open();
    await app?.close();
    await proxy?.cut();
  });

  it('answers every endpoint 503 naming mongo while the store is unreachable, readiness too, and recovers by itself', async () => {
    await proxy.cut();
    const answers = [
      await http.get(`/customers/${id}`),
      await http.get('/customers'),
      await http.post('/customers').send({ firstName: 'Grace', lastName: 'Hopper' }),
      await http.patch(`/customers/${id}`).send({ lastName: 'King' }),
      await http.delete(`/customers/${id}`),
    ];
    for (const res of answers) expectStoreUnavailable(res);
    const ready = await http.get('/health/ready').expect(503);
    expect(ready.body.error).toHaveProperty('mongo.status', 'down');
    await proxy.open();
    await waitFor('readiness to come back', async () => (await http.get('/health/ready')).status === 200 || undefined, 30_000);
    const back = await http.get(`/customers/${id}`).expect(200);
    expect(back.body.lastName).toBe('Lovelace');
  });

  it('answers reads and writes 503 naming mongo at the request deadline while the store is frozen, and serves them once thawed', async () => {
    proxy.stall();
    try {
      const started = Date.now();
      const answers = await Promise.all([
        http.get(`/customers/${id}`),
        http.get('/customers'),
        http.post('/customers').send({ firstName: 'Grace', lastName: 'Hopper' }),
        http.patch(`/customers/${id}`).send({ firstName: 'Augusta Ada' }),
      ]);
      expect(Date.now() - started).toBeLessThan(3_000);
      for (const res of answers) {
        expectStoreUnavailable(res);
        expect(res.body.message).toBe('mongo is unavailable: no answer within the request deadline (1500 ms)');
      }
    } finally {
      proxy.resume();
    }
    await waitFor('reads to work again', async () => (await http.get(`/customers/${id}`)).status === 200 || undefined, 30_000);
  });
});
