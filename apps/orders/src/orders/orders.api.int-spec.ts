import type { NestExpressApplication } from '@nestjs/platform-express';
import { HOSTILE_KEYS, freePort, integrationServices, randomJson, seededRandom, stopServiceProcess, type ServiceProcess } from '@zdm/dev-services';
import mongoose, { Connection } from 'mongoose';
import request from 'supertest';
import { expectedOrderStatus, ORDER_BODY_KEYS, ORDER_LINE_KEYS } from '../testing/order-body.oracle';
import { authorizedHttp, startCustomersService, startOrdersApp, testBearer } from '../testing/orders-app.fixture';

jest.setTimeout(120_000);

const services = integrationServices(['mongo']);
/** These instances keep the flags' safe defaults, whatever the Unleash that npm test shares says. */
const WITHOUT_UNLEASH = { UNLEASH_URL: undefined, UNLEASH_CLIENT_TOKEN: undefined };
const BODY_LIMIT = 4096;

describe('orders API against FerretDB and the customers service', () => {
  let customersService: ServiceProcess;
  let app: NestExpressApplication;
  let http: ReturnType<typeof request>;
  let db: Connection;
  let customerId: string;
  const orders = () => db.collection('orders');
  const order = (overrides: Record<string, unknown> = {}) => ({ customerId, currency: 'EUR', lines: [{ sku: 'BOOK-1', quantity: 2, unitPrice: 19.99 }], ...overrides });
  const fields = (res: request.Response) => (res.body.details as { field: string }[]).map((d) => d.field);

  beforeAll(async () => {
    customersService = await startCustomersService({ MONGO_URL: services.mongo.url, MONGO_DB: `${services.mongoDbName}-customers` });
    const created = await fetch(`${customersService.url}/customers`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: await testBearer() }, body: JSON.stringify({ firstName: 'Ada', lastName: 'Lovelace' }) });
    customerId = ((await created.json()) as { id: string }).id;
    app = await startOrdersApp({ ...WITHOUT_UNLEASH, MONGO_URL: services.mongo.url, MONGO_DB: services.mongoDbName, CUSTOMERS_URL: customersService.url, HTTP_BODY_LIMIT: String(BODY_LIMIT) });
    http = await authorizedHttp(app);
    db = await mongoose.createConnection(services.mongo.url, { dbName: services.mongoDbName }).asPromise();
  });
  afterAll(async () => {
    await app?.close();
    await db?.close();
    await stopServiceProcess(customersService);
  });

  describe('place, read, list, change status', () => {
    it('places an order with the customer snapshot, stored at v1 in float money until orders.money writes v2, and reads it back by id with the minor units too (API 1.1)', async () => {
      const created = await http.post('/orders').send(order({ lines: [{ sku: 'BOOK-1', quantity: 2, unitPrice: 19.99 }, { sku: 'PEN', quantity: 3, unitPrice: 0.1 }] })).expect(201);
      expect(created.body).toEqual({
        id: expect.stringMatching(/^[0-9a-f]{24}$/),
        customerId,
        customer: { firstName: 'Ada', lastName: 'Lovelace', fullName: 'Ada Lovelace' },
        currency: 'EUR',
        lines: [
          { sku: 'BOOK-1', quantity: 2, unitPrice: 19.99, unitPriceMoney: { minor: 1999, currency: 'EUR' } },
          { sku: 'PEN', quantity: 3, unitPrice: 0.1, unitPriceMoney: { minor: 10, currency: 'EUR' } },
        ],
        total: 40.28,
        totalMoney: { minor: 4028, currency: 'EUR' },
        status: 'placed',
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
      });
      expect((await http.get(`/orders/${created.body.id}`).expect(200)).body).toEqual(created.body);
      const raw = await orders().findOne({ _id: new mongoose.Types.ObjectId(created.body.id as string) });
      expect(raw).toMatchObject({ _v: 1, total: 40.28, currency: 'EUR', customer: { firstName: 'Ada', lastName: 'Lovelace' }, lines: [{ unitPrice: 19.99 }, { unitPrice: 0.1 }] });
    });

    it.each([
      ['JPY', 1999, 3998],
      ['BHD', 1.234, 2.468],
    ])('keeps %s prices at their exponent (%p × 2 = %p)', async (currency, unitPrice, total) => {
      const res = await http.post('/orders').send(order({ currency, lines: [{ sku: 'X', quantity: 2, unitPrice }] })).expect(201);
      expect(res.body).toMatchObject({ currency, total, lines: [{ unitPrice }], totalMoney: { currency, minor: Math.round(total * (currency === 'JPY' ? 1 : 1000)) } });
    });

    it('walks placed → paid → shipped → delivered, and answers 409 for every other change', async () => {
      const { body } = await http.post('/orders').send(order()).expect(201);
      const to = (status: string) => http.post(`/orders/${body.id}/status`).send({ status });
      expect((await to('paid').expect(200)).body.status).toBe('paid');
      expect((await to('paid').expect(200)).body.status).toBe('paid');
      const skip = await to('delivered').expect(409);
      expect(skip.body.message).toBe(`order ${body.id}: an order that is paid cannot become delivered; it can become shipped or cancelled`);
      await to('shipped').expect(200);
      const late = await to('cancelled').expect(409);
      expect(late.body.message).toContain('an order that is shipped cannot become cancelled');
      await to('delivered').expect(200);
      await to('placed').expect(409);
      expect((await http.get(`/orders/${body.id}`).expect(200)).body.status).toBe('delivered');
    });

    it('cancels before shipped, after which the order stays cancelled', async () => {
      const { body } = await http.post('/orders').send(order()).expect(201);
      await http.post(`/orders/${body.id}/status`).send({ status: 'paid' }).expect(200);
      await http.post(`/orders/${body.id}/status`).send({ status: 'cancelled' }).expect(200);
      await http.post(`/orders/${body.id}/status`).send({ status: 'shipped' }).expect(409);
    });

    it('keeps exactly one of two racing status changes that exclude each other', async () => {
      const { body } = await http.post('/orders').send(order()).expect(201);
      await http.post(`/orders/${body.id}/status`).send({ status: 'paid' }).expect(200);
      const [ship, cancel] = await Promise.all([
        http.post(`/orders/${body.id}/status`).send({ status: 'shipped' }),
        http.post(`/orders/${body.id}/status`).send({ status: 'cancelled' }),
      ]);
      // Both are legal from paid, and neither is from the other: the one that lands second re-reads and is refused.
      expect([ship.status, cancel.status].sort()).toEqual([200, 409]);
      const final = (await http.get(`/orders/${body.id}`).expect(200)).body.status;
      expect(final).toBe(ship.status === 200 ? 'shipped' : 'cancelled');
    });

    it("pages through one customer's orders exactly once each, in id order", async () => {
      const other = await fetch(`${customersService.url}/customers`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: await testBearer() }, body: JSON.stringify({ firstName: 'Grace', lastName: 'Hopper' }) });
      const otherId = ((await other.json()) as { id: string }).id;
      for (let i = 0; i < 5; i++) await http.post('/orders').send(order({ customerId: otherId, lines: [{ sku: `P${i}`, quantity: 1, unitPrice: i }] })).expect(201);
      const seen: string[] = [];
      let after: string | null = null;
      do {
        const res: request.Response = await http.get('/orders').query({ customerId: otherId, limit: 2, ...(after ? { after } : {}) }).expect(200);
        for (const item of res.body.items) expect(item).toMatchObject({ customerId: otherId, customer: { firstName: 'Grace', lastName: 'Hopper' } });
        seen.push(...res.body.items.map((o: { id: string }) => o.id));
        after = res.body.next;
      } while (after);
      expect(seen).toHaveLength(5);
      expect([...seen].sort()).toEqual(seen);
      expect((await http.get('/orders').query({ limit: 100 }).expect(200)).body.items.length).toBeGreaterThan(5);
    });
  });

  describe('OpenAPI', () => {
    it('documents the 1.0 money fields and the 1.1 minor units next to them, the status route and every error answer', async () => {
      const { body } = await http.get('/docs-json').expect(200);
      expect(body.info.version).toBe('1.2.0');
      expect(body.components.schemas.CustomerSnapshotResponse.properties.fullName.description).toMatch(/^Since API 1.2/);
      const { OrderResponse, OrderLineResponse, MoneyResponse } = body.components.schemas;
      expect(OrderResponse.properties.total).toMatchObject({ type: 'number' });
      expect(OrderResponse.properties.totalMoney.description).toMatch(/^Since API 1.1/);
      expect(OrderLineResponse.properties.unitPriceMoney.description).toMatch(/^Since API 1.1/);
      expect(MoneyResponse.properties.minor).toMatchObject({ type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
      expect(Object.keys(body.paths['/orders'].post.responses).sort()).toEqual(['201', '400', '401', '413', '422', '503', '504']);
      expect(Object.keys(body.paths['/orders/{id}/status'].post.responses).sort()).toEqual(['200', '400', '401', '404', '409', '413', '503', '504']);
      expect(body.paths['/orders'].post.responses['503'].headers).toHaveProperty('Retry-After');
      expect(body.components.schemas.ChangeStatusDto.properties.status.enum).toEqual(['placed', 'paid', 'shipped', 'delivered', 'cancelled']);
    });
  });

  describe('bad input', () => {
    it('answers an unknown customer with 422 naming customerId, and stores nothing', async () => {
      const before = await orders().countDocuments();
      const missing = new mongoose.Types.ObjectId().toHexString();
      const res = await http.post('/orders').send(order({ customerId: missing })).expect(422);
      expect(res.body.details).toEqual([{ field: 'customerId', errors: [`customer ${missing} does not exist`] }]);
      expect(await orders().countDocuments()).toBe(before);
    });

    it.each([
      ['a negative price', { lines: [{ sku: 'A', quantity: 1, unitPrice: -1 }] }, 'lines.0.unitPrice', 'unitPrice must not be negative'],
      ['a price as a string', { lines: [{ sku: 'A', quantity: 1, unitPrice: '19.99' }] }, 'lines.0.unitPrice', 'unitPrice must be a number'],
      ['too many decimals for EUR', { lines: [{ sku: 'A', quantity: 1, unitPrice: 19.999 }] }, 'lines.0.unitPrice', 'unitPrice 19.999 is not a whole number of EUR minor units (EUR has 2 decimals); it is not rounded'],
      ['decimals for JPY', { currency: 'JPY', lines: [{ sku: 'A', quantity: 1, unitPrice: 10.5 }] }, 'lines.0.unitPrice', 'unitPrice 10.5 is not a whole number of JPY minor units (JPY has whole units); it is not rounded'],
      ['more than 2^53 minor units', { lines: [{ sku: 'A', quantity: 1, unitPrice: 2 ** 53 }] }, 'lines.0.unitPrice', `unitPrice ${2 ** 53} EUR is more than 2^53-1 minor units`],
      ['a total above 2^53 minor units', { currency: 'JPY', lines: [{ sku: 'A', quantity: 1_000_000, unitPrice: 2 ** 40 }] }, 'lines', 'the total of the lines is more than 2^53-1 JPY minor units'],
      ['an unknown currency', { currency: 'XXX' }, 'currency', 'currency must be one of EUR, USD, GBP, CHF, SEK, JPY, KRW, BHD, KWD, JOD'],
      ['a missing currency', { currency: undefined }, 'currency', 'currency must be one of EUR, USD, GBP, CHF, SEK, JPY, KRW, BHD, KWD, JOD'],
      ['a zero quantity', { lines: [{ sku: 'A', quantity: 0, unitPrice: 1 }] }, 'lines.0.quantity', 'quantity must not be less than 1'],
      ['no lines', { lines: [] }, 'lines', 'lines must hold at least one line'],
      ['a malformed customer id', { customerId: 'nope' }, 'customerId', 'customerId must be a customer id: 24 hexadecimal characters'],
    ])('refuses %s with a 400 naming the field, and stores nothing', async (_what, overrides, field, error) => {
      const before = await orders().countDocuments();
      const res = await http.post('/orders').send(order(overrides)).expect(400);
      expect(res.body.details).toContainEqual({ field, errors: expect.arrayContaining([error]) });
      expect(await orders().countDocuments()).toBe(before);
    });

    it('refuses NaN sent as a JSON-like body (400), since JSON has no NaN', async () => {
      const body = `{"customerId":"${customerId}","currency":"EUR","lines":[{"sku":"A","quantity":1,"unitPrice":NaN}]}`;
      await http.post('/orders').set('content-type', 'application/json').send(body).expect(400);
    });

    it.each(['isAdmin', '__proto__', 'constructor', '_id', '_v', 'total', 'status'])('rejects the unknown key %s', async (key) => {
      const res = await http.post('/orders').set('content-type', 'application/json').send(JSON.stringify(order()).replace(/}$/, `,${JSON.stringify(key)}:1}`)).expect(400);
      expect(res.body.details).toEqual([{ field: key, errors: [`property ${key} should not exist`] }]);
    });

    it.each([
      [{ customerId: { $ne: null }, currency: 'EUR', lines: [] }],
      [{ currency: 'EUR', lines: [{ sku: 'A', quantity: 1, unitPrice: 1, $where: 'sleep(1000)' }] }],
    ])('rejects $-prefixed keys anywhere in the body: %j', async (body) => {
      const res = await http.post('/orders').send(body).expect(400);
      expect(JSON.stringify(res.body.details)).toContain('$');
      await http.get('/orders?customerId[$gt]=').expect(400);
    });

    it('answers a malformed id with 400 naming the id, and an unknown one with 404', async () => {
      const bad = await http.get('/orders/not-an-id').expect(400);
      expect(bad.body.details).toEqual([{ field: 'id', errors: ['id must be an order id: 24 hexadecimal characters'] }]);
      await http.post('/orders/123/status').send({ status: 'paid' }).expect(400);
      await http.get(`/orders/${new mongoose.Types.ObjectId().toHexString()}`).expect(404);
      await http.post(`/orders/${new mongoose.Types.ObjectId().toHexString()}/status`).send({ status: 'paid' }).expect(404);
      const status = await http.post(`/orders/${new mongoose.Types.ObjectId().toHexString()}/status`).send({ status: 'lost' }).expect(400);
      expect(status.body.details).toEqual([{ field: 'status', errors: ['status must be one of placed, paid, shipped, delivered, cancelled'] }]);
    });

    it.each([['limit=0', 'limit'], ['limit=101', 'limit'], ['limit=1e2', 'limit'], ['after=nope', 'after'], ['customerId=x', 'customerId'], ['sort=id', 'sort']])(
      'rejects the query %s with a 400 naming %s',
      async (query, field) => {
        expect(fields(await http.get(`/orders?${query}`).expect(400))).toContain(field);
      },
    );

    it('answers an oversized body with 413 and stores nothing', async () => {
      const before = await orders().countDocuments();
      const lines = Array.from({ length: 100 }, (_, i) => ({ sku: `SKU-${'x'.repeat(40)}-${i}`, quantity: 1, unitPrice: 1 }));
      expect((await http.post('/orders').send(order({ lines })).expect(413)).body.statusCode).toBe(413);
      expect(await orders().countDocuments()).toBe(before);
    });
  });

  describe('access tokens', () => {
    it('refuses placing an order and changing its status without a token (401, WWW-Authenticate: Bearer), stores nothing, and reads stay open', async () => {
      const placed = (await http.post('/orders').send(order()).expect(201)).body;
      const before = await orders().countDocuments();
      const anonymous = request(app.getHttpServer());
      for (const res of [await anonymous.post('/orders').send(order()), await anonymous.post(`/orders/${placed.id}/status`).send({ status: 'paid' })]) {
        expect({ status: res.status, challenge: res.headers['www-authenticate'], message: res.body.message }).toEqual({
          status: 401,
          challenge: 'Bearer',
          message: 'an access token is required: Authorization: Bearer <token>',
        });
      }
      expect(await orders().countDocuments()).toBe(before);
      expect((await anonymous.get(`/orders/${placed.id}`).expect(200)).body.status).toBe('placed');
    });

    it('states the bearer scheme in its OpenAPI document on the two writes only', async () => {
      const paths = (await http.get('/docs-json').expect(200)).body.paths;
      expect(paths['/orders'].post.security).toEqual([{ bearer: [] }]);
      expect(paths['/orders/{id}/status'].post.security).toEqual([{ bearer: [] }]);
      expect(paths['/orders'].get.security).toBeUndefined();
      expect(paths['/orders/{id}'].get.security).toBeUndefined();
    });
  });

  describe('the customers service down', () => {
    it('answers 503 with Retry-After naming customers, and stores nothing', async () => {
      const closed = await freePort();
      const cut = await startOrdersApp({ ...WITHOUT_UNLEASH, MONGO_URL: services.mongo.url, MONGO_DB: services.mongoDbName, CUSTOMERS_URL: `http://127.0.0.1:${closed}` });
      try {
        const before = await orders().countDocuments();
        const res = await (await authorizedHttp(cut)).post('/orders').send(order()).expect(503);
        expect(res.headers['retry-after']).toMatch(/^\d+$/);
        expect(res.body).toMatchObject({ statusCode: 503, dependency: 'customers' });
        expect(await orders().countDocuments()).toBe(before);
        await request(cut.getHttpServer()).get('/orders').expect(200);
      } finally {
        await cut.close();
      }
    });
  });

  describe('random JSON bodies (seeded fuzz)', () => {
    const SEED = Number(process.env.FUZZ_SEED ?? 20261204);
    const CASES = Number(process.env.FUZZ_CASES ?? 200);
    const random = seededRandom(SEED);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)];
    const setOwn = (body: Record<string, unknown>, key: string, value: unknown) => Object.defineProperty(body, key, { value, enumerable: true, writable: true, configurable: true });
    const PRICES = [0, 1, 19.99, 0.1 + 0.2, 19.999, -1, 1e308, 2 ** 53, 1.5, 0.001, 1234.5];

    /** Half the bodies are a valid one with one random mutation, so the valid paths are exercised too. */
    const nextBody = (): unknown => {
      if (random() < 0.4) return randomJson(random, { keys: [...ORDER_BODY_KEYS, ...ORDER_LINE_KEYS] });
      const line: Record<string, unknown> = { sku: `S${Math.floor(random() * 100)}`, quantity: 1 + Math.floor(random() * 5), unitPrice: pick(PRICES) };
      const body: Record<string, unknown> = { customerId: random() < 0.85 ? customerId : new mongoose.Types.ObjectId().toHexString(), currency: pick(['EUR', 'JPY', 'BHD', 'USD']), lines: [line] };
      const mutation = Math.floor(random() * 6);
      if (mutation === 0) delete body[pick(Object.keys(body))];
      else if (mutation === 1) setOwn(body, pick(ORDER_BODY_KEYS), randomJson(random, { keys: ORDER_LINE_KEYS, maxDepth: 2 }));
      else if (mutation === 2) setOwn(line, pick(ORDER_LINE_KEYS), randomJson(random, { maxDepth: 1 }));
      else if (mutation === 3) setOwn(random() < 0.5 ? body : line, pick([...HOSTILE_KEYS, 'extra']), randomJson(random, { maxDepth: 1 }));
      return body;
    };

    it(`never answers 5xx, answers exactly what the rules say, and stores exactly the accepted orders (${CASES} cases, seed ${SEED})`, async () => {
      const statuses: Record<number, number> = {};
      for (let i = 0; i < CASES; i++) {
        const body = nextBody();
        const before = await orders().countDocuments();
        const res = await http.post('/orders').set('content-type', 'application/json').send(JSON.stringify(body));
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        const expected = Buffer.byteLength(JSON.stringify(body)) > BODY_LIMIT ? 413 : expectedOrderStatus(body, customerId);
        if (res.status !== expected) throw new Error(`expected ${expected}, got case ${i} (seed ${SEED}): POST ${JSON.stringify(body)} -> ${res.status} ${JSON.stringify(res.body)}`);
        if (res.status !== 201) {
          expect(await orders().countDocuments()).toBe(before);
          continue;
        }
        const sent = body as { lines: { unitPrice: number }[] };
        expect(res.body.lines.map((l: { unitPrice: number }) => l.unitPrice)).toEqual(sent.lines.map((l) => Math.abs(l.unitPrice) === 0 ? 0 : expect.closeTo(l.unitPrice, 9)));
        const stored = await orders().findOne({ _id: new mongoose.Types.ObjectId(res.body.id as string) });
        expect(stored?.['total']).toBe(res.body.total);
        expect(await orders().countDocuments()).toBe(before + 1);
      }
      console.info(`[orders fuzz] seed ${SEED}: ${CASES} bodies, statuses ${JSON.stringify(statuses)}`);
      for (const status of [201, 400, 422]) expect(statuses[status] ?? 0).toBeGreaterThan(0);
      await http.get('/health/live').expect(200);
    });
  });
});
