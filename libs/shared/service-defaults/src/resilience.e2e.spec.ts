import type { NestExpressApplication } from '@nestjs/platform-express';
import { type BulkWriteResult, MongoBulkWriteError, MongoClient, MongoNetworkError, MongoServerError } from 'mongodb';
import request from 'supertest';
import { FixtureDependency, FixtureModule } from './__fixtures__/fixture.module';
import { createServiceApp } from './lib/bootstrap/service-app';
import { currentDeadline, runWithDeadline } from './lib/resilience/request-deadline';

/** The real error of a driver that finds no server (nothing listens on port 1). */
async function serverSelectionError(): Promise<unknown> {
  const client = new MongoClient('mongodb://127.0.0.1:1', { serverSelectionTimeoutMS: 100 });
  try {
    return await client.db('x').collection('y').findOne().then(() => new Error('a server answered on port 1'), (error: unknown) => error);
  } finally {
    await client.close();
  }
}

const TEST_ENV = { FIXTURE_GREETING: 'hello', LOG_LEVEL: 'silent', REQUEST_TIMEOUT_MS: '400' };

describe('a service whose dependencies fail or stall', () => {
  let app: NestExpressApplication;
  let http: ReturnType<typeof request>;
  let dependency: FixtureDependency;

  beforeAll(async () => {
    Object.assign(process.env, TEST_ENV);
    app = await (await createServiceApp(FixtureModule, { name: 'fixture' })).init();
    http = request(app.getHttpServer());
    dependency = app.get(FixtureDependency);
  });
  afterAll(async () => {
    await app.close();
    for (const key of Object.keys(TEST_ENV)) delete process.env[key];
  });

  it('gives every request a deadline of REQUEST_TIMEOUT_MS from its arrival, and none outside a request', async () => {
    const before = Date.now();
    const { body } = await http.get('/widgets/deadline').expect(200);
    expect(body.deadline).toBeGreaterThanOrEqual(before + 400);
    expect(body.deadline).toBeLessThanOrEqual(body.now + 400);
    expect(currentDeadline()).toBeUndefined();
    expect(runWithDeadline(1234, () => currentDeadline())).toBe(1234);
  });

  it.each([
    ['a server that cannot be selected', serverSelectionError, 'mongo'],
    ['a broken connection', () => new MongoNetworkError('connection 3 to 127.0.0.1:27017 closed'), 'mongo'],
    ['a query out of time (MaxTimeMSExpired)', () => new MongoServerError({ code: 50, errmsg: 'operation exceeded time limit' }), 'mongo'],
    ['FerretDB interrupting a statement of a stalled server', () => new MongoServerError({ code: 1, codeName: 'InternalError', errmsg: '[msg_insert.go:168 handler.(*Handler).MsgInsert] [db.go:134 fsql.(*DB).InTransaction] interrupted (9)' }), 'mongo'],
    ['FerretDB cancelling a find past its maxTimeMS', () => new MongoServerError({ code: 1, codeName: 'InternalError', errmsg: '[msg_find.go:344 handler.handleMaxTimeMSError] [query_iterator.go:79 sqlite.(*queryIterator).Next] context canceled after delay' }), 'mongo'],
    ['a wrapped network error', () => new Error('claiming documents failed', { cause: new MongoNetworkError('connect ECONNREFUSED') }), 'mongo'],
    ['a Redis connection that is down', () => new Error('Connection is closed.'), 'redis'],
  ])('answers 503 with Retry-After naming the dependency for %s, never 500', async (_what, failure, name) => {
    dependency.failure = await failure();
    const res = await http.get('/widgets/store-error').expect(503);
    expect(res.headers['retry-after']).toBe('1');
    expect(res.body).toMatchObject({ statusCode: 503, error: 'Service Unavailable', dependency: name });
    expect(res.body.message).toMatch(new RegExp(`^${name} is unavailable: `));
    expect(JSON.stringify(res.body)).not.toContain('127.0.0.1');
  });

  it('answers 409 for a duplicate key, a real conflict', async () => {
    const duplicate = new MongoServerError({ code: 11000, errmsg: 'E11000 duplicate key error' });
    // Only the error matters here, not the partial result of the bulk write.
    dependency.failure = new MongoBulkWriteError(duplicate, {} as BulkWriteResult);
    const res = await http.get('/widgets/store-error').expect(409);
    expect(res.body.message).toBe('a document with this key already exists');
  });

  it('still answers 500 without details for an error that is not a dependency failure', async () => {
    dependency.failure = new TypeError('x is undefined');
    const res = await http.get('/widgets/store-error').expect(500);
    expect(res.body.message).toBe('Internal server error');
  });

  it('answers 503 naming the dependency a request still waits on at its deadline, at the deadline', async () => {
    const started = Date.now();
    const res = await http.get('/widgets/stalled-store?ms=1200').expect(503);
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(390);
    expect(took).toBeLessThan(2_000);
    expect(res.headers['retry-after']).toBe('1');
    expect(res.body).toMatchObject({ dependency: 'fixture-store', message: 'fixture-store is unavailable: no answer within the request deadline (400 ms)' });
  });

  it('answers 504 when the deadline passes while the handler waits on nothing it named', async () => {
    const res = await http.get('/widgets/slow?ms=1200').expect(504);
    expect(res.body).toMatchObject({ statusCode: 504, error: 'Gateway Timeout', message: 'no answer within the request deadline (400 ms)' });
    expect(res.body.dependency).toBeUndefined();
  });

  it('answers a request that fits in its deadline as usual', async () => {
    await http.get('/widgets/slow?ms=50').expect(200, { sleptMs: 50 });
  });
});
