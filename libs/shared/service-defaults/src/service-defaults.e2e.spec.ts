import type { NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import { Counter, Registry } from 'prom-client';
import request from 'supertest';
import { FixtureDependency, FixtureModule } from './__fixtures__/fixture.module';
import { configureServiceApp, createServiceApp } from './lib/bootstrap/service-app';
import { ServiceLifecycle } from './lib/lifecycle/service-lifecycle.service';

const TEST_ENV = { FIXTURE_GREETING: 'hello', LOG_LEVEL: 'silent', HTTP_BODY_LIMIT: '1kb' };

async function startFixtureApp(): Promise<NestExpressApplication> {
  Object.assign(process.env, TEST_ENV);
  const app = await createServiceApp(FixtureModule, { name: 'fixture', version: '2.3.4' });
  return app.init();
}

describe('service defaults over HTTP', () => {
  let app: NestExpressApplication;
  let http: ReturnType<typeof request>;

  beforeAll(async () => {
    app = await startFixtureApp();
    http = request(app.getHttpServer());
  });
  afterAll(async () => {
    await app.close();
    for (const key of Object.keys(TEST_ENV)) delete process.env[key];
  });

  describe('health', () => {
    it('answers liveness with 200 and the terminus body', async () => {
      const res = await http.get('/health/live').expect(200);
      expect(res.body).toEqual({ status: 'ok', info: {}, error: {}, details: {} });
      expect(res.headers['cache-control']).toContain('no-store');
    });

    it('answers readiness with 200 and the details of every registered check', async () => {
      const res = await http.get('/health/ready').expect(200);
      expect(res.body.details).toEqual({ 'fixture-dependency': { status: 'up', latencyMs: 1 } });
    });

    it('answers readiness with 503 naming the failing check when a registered check is down', async () => {
      const dependency = app.get(FixtureDependency);
      dependency.up = false;
      try {
        const res = await http.get('/health/ready').expect(503);
        expect(res.body.status).toBe('error');
        expect(res.body.error).toEqual({
          'fixture-dependency': { status: 'down', message: 'fixture dependency is down' },
        });
        await http.get('/health/live').expect(200);
      } finally {
        dependency.up = true;
      }
    });
  });

  describe('metrics', () => {
    it('serves the default process metrics in the Prometheus text format', async () => {
      const res = await http.get('/metrics').expect(200);
      expect(res.headers['content-type']).toContain('text/plain');
      expect(res.text).toContain('process_cpu_user_seconds_total');
      expect(res.text).toContain('nodejs_eventloop_lag_seconds');
    });

    it('counts and times requests by method, route template and status', async () => {
      await http.get('/widgets/1').expect(200);
      await http.get('/widgets/42').expect(404);
      const { text } = await http.get('/metrics').expect(200);
      expect(text).toMatch(/http_requests_total\{method="GET",route="\/widgets\/:id",status="200"\} [1-9]/);
      expect(text).toMatch(/http_requests_total\{method="GET",route="\/widgets\/:id",status="404"\} [1-9]/);
      expect(text).toMatch(
        /http_request_duration_seconds_bucket\{le="[^"]+",method="GET",route="\/widgets\/:id",status="200"\}/,
      );
      expect(text).not.toContain('route="/widgets/42"');
    });

    it('exposes the registry so that other modules can add their own metrics', async () => {
      const registry = app.get(Registry);
      new Counter({ name: 'zdm_test_library_events_total', help: 'A library metric.', registers: [registry] }).inc(3);
      const { text } = await http.get('/metrics').expect(200);
      expect(text).toContain('zdm_test_library_events_total 3');
    });
  });

  describe('OpenAPI', () => {
    it('serves the Swagger UI at /docs', async () => {
      const res = await http.get('/docs').expect(200);
      expect(res.headers['content-type']).toContain('text/html');
      expect(res.text).toContain('swagger');
    });

    it('serves the document at /docs-json with the service name, version and routes', async () => {
      const res = await http.get('/docs-json').expect(200);
      expect(res.body.info).toMatchObject({ title: 'fixture', version: '2.3.4' });
      expect(Object.keys(res.body.paths)).toEqual(expect.arrayContaining(['/widgets', '/health/ready']));
      expect(res.body.paths).not.toHaveProperty('/metrics');
    });
  });

  describe('input validation', () => {
    it('transforms a valid body into its DTO class', async () => {
      const res = await http.post('/widgets').send({ name: 'gear', quantity: 2 }).expect(201);
      expect(res.body).toEqual({ name: 'gear', quantity: 2, greeting: 'hello', isDto: true });
    });

    it('answers 400 naming every invalid field, nested ones and unknown properties included', async () => {
      const res = await http
        .post('/widgets')
        .send({ name: 'x', quantity: -1, colour: 'red', dimensions: { width: 0, height: 2 } })
        .expect(400);
      expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request', message: 'Validation failed' });
      const fields = Object.fromEntries(
        res.body.details.map((d: { field: string; errors: string[] }) => [d.field, d.errors]),
      );
      expect(Object.keys(fields).sort()).toEqual(['colour', 'dimensions.width', 'name', 'quantity']);
      expect(fields['colour']).toEqual(['property colour should not exist']);
    });

    it.each(['__proto__', 'constructor', 'prototype'])('answers 400 naming a %s key, which the DTO conversion would drop silently', async (key) => {
      const body = `{"name":"gear","quantity":1,"dimensions":{"width":1,"height":2,${JSON.stringify(key)}:{"polluted":true}}}`;
      const res = await http.post('/widgets').set('content-type', 'application/json').send(body).expect(400);
      expect(res.body).toMatchObject({ statusCode: 400, message: 'Validation failed' });
      expect(res.body.details).toEqual([{ field: `dimensions.${key}`, errors: [`property ${key} should not exist`] }]);
      expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    });

    it('answers 400 in the error shape for malformed JSON', async () => {
      const res = await http.post('/widgets').set('content-type', 'application/json').send('{"name":').expect(400);
      expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    });
  });

  describe('NoSQL operator keys', () => {
    it.each([
      ['top level', { $where: 'sleep(1000)' }, 'body.$where'],
      ['nested', { name: 'gear', quantity: 1, filter: { price: { $gt: 0 } } }, 'body.filter.price.$gt'],
      ['inside an array', { name: 'gear', quantity: 1, tags: [{ ok: 1 }, { $ne: null }] }, 'body.tags.1.$ne'],
    ])('answers 400 naming a $-key in the body (%s)', async (_where, body, field) => {
      const res = await http.post('/widgets').send(body).expect(400);
      expect(res.body.message).toContain(field);
      expect(res.body.details).toEqual([{ field, errors: ['keys starting with "$" are not allowed'] }]);
    });

    it.each([
      ['/widgets/1?$where=1', 'query.$where'],
      ['/widgets/1?name[$ne]=x', 'query.name[$ne]'],
    ])('answers 400 naming a $-key in the query string (%s)', async (url, field) => {
      const res = await http.get(url).expect(400);
      expect(res.body.message).toContain(field);
    });

    it('lets a $ inside a value through', async () => {
      await http.post('/widgets').send({ name: '$5 gear', quantity: 1 }).expect(201);
    });

    it('answers 400, not 500, for input nested deeper than the limit', async () => {
      let deep: unknown = 1;
      for (let i = 0; i < 40; i++) deep = { a: deep };
      const res = await http.post('/widgets').send({ name: 'gear', quantity: 1, deep }).expect(400);
      expect(res.body.message).toContain('nested deeper than 32 levels');
    });
  });

  describe('errors', () => {
    it('answers 413 in the error shape for a body over HTTP_BODY_LIMIT', async () => {
      const res = await http
        .post('/widgets')
        .send({ name: 'a'.repeat(2048), quantity: 1 })
        .expect(413);
      expect(res.body).toMatchObject({ statusCode: 413, error: 'Payload Too Large' });
    });

    it('answers 404 in the error shape for an unknown route', async () => {
      const res = await http.get('/nowhere').expect(404);
      expect(res.body).toMatchObject({ statusCode: 404, error: 'Not Found' });
    });

    it('answers 405 with Allow in the error shape for an unknown method on a known path, and 404 for an unknown path', async () => {
      const res = await http.delete('/widgets/1').expect(405);
      expect(res.headers['allow']).toBe('GET, HEAD');
      expect(res.body).toMatchObject({ statusCode: 405, error: 'Method Not Allowed', message: 'DELETE is not allowed on /widgets/1; allowed: GET, HEAD' });
      expect((await http.post('/widgets/1').send({})).status).toBe(405);
      await http.delete('/gadgets/1').expect(404);
    });

    it('answers 500 without leaking the error when a handler throws', async () => {
      const res = await http.get('/widgets/boom').expect(500);
      expect(res.body).toMatchObject({ statusCode: 500, message: 'Internal server error' });
      expect(JSON.stringify(res.body)).not.toContain('secret');
    });

    it('echoes a well-formed incoming x-request-id in the header and the error body', async () => {
      const res = await http.get('/nowhere').set('x-request-id', 'trace-123').expect(404);
      expect(res.headers['x-request-id']).toBe('trace-123');
      expect(res.body.requestId).toBe('trace-123');
    });
  });

  describe('once shutdown has begun', () => {
    beforeAll(() => {
      app.get(ServiceLifecycle).beginShutdown();
    });

    it('answers readiness with 503 while liveness stays 200', async () => {
      const res = await http.get('/health/ready').expect(503);
      expect(res.body.status).toBe('shutting_down');
      await http.get('/health/live').expect(200);
    });

    it('asks clients to close keep-alive connections', async () => {
      const res = await http.get('/widgets/1').expect(200);
      expect(res.headers['connection']).toBe('close');
    });
  });
});

describe('configureServiceApp on a testing module', () => {
  it('applies the same defaults to an app built with provider overrides', async () => {
    Object.assign(process.env, TEST_ENV);
    const moduleRef = await Test.createTestingModule({ imports: [FixtureModule] })
      .overrideProvider(FixtureDependency)
      .useValue({ up: false, onModuleInit: () => undefined })
      .compile();
    const app = await configureServiceApp(
      moduleRef.createNestApplication<NestExpressApplication>({ bufferLogs: true }),
      {
        name: 'fixture',
      },
    ).init();
    try {
      const http = request(app.getHttpServer());
      await http
        .post('/widgets')
        .send({ name: 'a'.repeat(2048), quantity: 1 })
        .expect(413);
      await http.post('/widgets').send({ name: 'gear', quantity: 1, $set: {} }).expect(400);
      const ready = await http.get('/health/ready').expect(200);
      expect(ready.body.details).toEqual({});
    } finally {
      await app.close();
      for (const key of Object.keys(TEST_ENV)) delete process.env[key];
    }
  });
});
