import type { NestExpressApplication } from '@nestjs/platform-express';
import { integrationServices, seededRandom } from '@zdm/dev-services';
import mongoose, { Connection } from 'mongoose';
import request from 'supertest';
import { authorizedHttp, startCustomersApp } from '../testing/customers-app.fixture';
import { CUSTOMER_BODY_KEYS, expectedStatus } from '../testing/customer-body.oracle';
import { HOSTILE_KEYS, randomJson } from '@zdm/dev-services';

jest.setTimeout(60_000);

const services = integrationServices(['mongo']);
const BODY_LIMIT = 2048;

describe('customers API against FerretDB', () => {
  let app: NestExpressApplication;
  let http: ReturnType<typeof request>;
  let db: Connection;
  const customers = () => db.collection('customers');

  beforeAll(async () => {
    app = await startCustomersApp({ MONGO_URL: services.mongo.url, MONGO_DB: services.mongoDbName, HTTP_BODY_LIMIT: String(BODY_LIMIT) });
    http = await authorizedHttp(app);
    db = await mongoose.createConnection(services.mongo.url, { dbName: services.mongoDbName }).asPromise();
  });
  afterAll(async () => {
    await app?.close();
    await db?.close();
  });

  describe('create, read, update, delete', () => {
    it('creates a customer with trimmed names and reads it back by id', async () => {
      const created = await http.post('/customers').send({ firstName: '  Ada ', lastName: 'Lovelace ' }).expect(201);
      expect(created.body).toMatchObject({ firstName: 'Ada', lastName: 'Lovelace' });
      expect(created.body.id).toMatch(/^[0-9a-f]{24}$/);
      const read = await http.get(`/customers/${created.body.id}`).expect(200);
      expect(read.body).toEqual(created.body);
    });

    it('stamps version 1 and a revision on the stored document', async () => {
      const { body } = await http.post('/customers').send({ firstName: 'Grace', lastName: 'Hopper' }).expect(201);
      const raw = await customers().findOne({ _id: new mongoose.Types.ObjectId(body.id) });
      expect(raw).toMatchObject({ firstName: 'Grace', lastName: 'Hopper', _v: 1 });
      expect(typeof raw?.['_rev']).toBe('number');
    });

    it('changes only the fields a PATCH names, and bumps the revision', async () => {
      const { body } = await http.post('/customers').send({ firstName: 'Ada', lastName: 'Byron' }).expect(201);
      const before = await customers().findOne({ _id: new mongoose.Types.ObjectId(body.id) });
      const patched = await http.patch(`/customers/${body.id}`).send({ lastName: 'King' }).expect(200);
      expect(patched.body).toMatchObject({ id: body.id, firstName: 'Ada', lastName: 'King' });
      const after = await customers().findOne({ _id: new mongoose.Types.ObjectId(body.id) });
      expect(after?.['_rev']).toBe(Number(before?.['_rev'] ?? 0) + 1);
      expect((await http.get(`/customers/${body.id}`).expect(200)).body.lastName).toBe('King');
    });

    it('keeps both of two concurrent PATCHes of different fields', async () => {
      const { body } = await http.post('/customers').send({ firstName: 'A', lastName: 'B' }).expect(201);
      const results = await Promise.all([
        http.patch(`/customers/${body.id}`).send({ firstName: 'Alan' }),
        http.patch(`/customers/${body.id}`).send({ lastName: 'Turing' }),
      ]);
      expect(results.map((r) => r.status)).toEqual([200, 200]);
      expect((await http.get(`/customers/${body.id}`).expect(200)).body).toMatchObject({ firstName: 'Alan', lastName: 'Turing' });
    });

    it('deletes a customer, after which it is a 404 to read, change or delete', async () => {
      const { body } = await http.post('/customers').send({ firstName: 'Temp', lastName: 'Orary' }).expect(201);
      await http.delete(`/customers/${body.id}`).expect(204);
      await http.get(`/customers/${body.id}`).expect(404);
      await http.patch(`/customers/${body.id}`).send({ firstName: 'X' }).expect(404);
      const again = await http.delete(`/customers/${body.id}`).expect(404);
      expect(again.body.message).toBe(`customer ${body.id} not found`);
    });
  });

  describe('API 1.1: fullName, status and marketingPreferences, next to the 1.0 fields', () => {
    it('returns every 1.0 field unchanged and adds fullName, status and marketingPreferences', async () => {
      const res = await http.post('/customers').send({ firstName: 'Ludwig', lastName: 'van Beethoven' }).expect(201);
      expect(res.body).toEqual({
        id: expect.any(String),
        firstName: 'Ludwig',
        lastName: 'van Beethoven',
        fullName: 'Ludwig van Beethoven',
        status: 'Active',
        marketingPreferences: null,
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
      });
    });

    it('accepts fullName alone, split at its last space, and fullName with both parts when they agree', async () => {
      expect((await http.post('/customers').send({ fullName: ' Mary Ann Evans ' }).expect(201)).body).toMatchObject({ firstName: 'Mary Ann', lastName: 'Evans', fullName: 'Mary Ann Evans' });
      expect((await http.post('/customers').send({ fullName: 'Cher' }).expect(201)).body).toMatchObject({ firstName: 'Cher', lastName: '' });
      await http.post('/customers').send({ firstName: 'Ludwig', lastName: 'van Beethoven', fullName: 'Ludwig van Beethoven' }).expect(201);
      const mismatch = await http.post('/customers').send({ firstName: 'Ludwig', lastName: 'Beethoven', fullName: 'Ludwig van Beethoven' }).expect(400);
      expect(mismatch.body.details).toEqual([{ field: 'fullName', errors: ['fullName must equal firstName and lastName joined by one space'] }]);
      const half = await http.post('/customers').send({ firstName: 'Ludwig', fullName: 'Ludwig van Beethoven' }).expect(400);
      expect(half.body.details[0].field).toBe('fullName');
      const neither = await http.post('/customers').send({ lastName: 'Alone' }).expect(400);
      expect(neither.body.details.map((d: { field: string }) => d.field)).toEqual(['firstName']);
    });

    it('keeps the stored split when a PATCH sends the same fullName, and splits a new one at its last space', async () => {
      const { body } = await http.post('/customers').send({ firstName: 'Ludwig', lastName: 'van Beethoven' }).expect(201);
      expect((await http.patch(`/customers/${body.id}`).send({ fullName: 'Ludwig van Beethoven' }).expect(200)).body).toMatchObject({ firstName: 'Ludwig', lastName: 'van Beethoven' });
      expect((await http.patch(`/customers/${body.id}`).send({ fullName: 'Ludwig van Beethoven II' }).expect(200)).body).toMatchObject({ firstName: 'Ludwig van Beethoven', lastName: 'II' });
    });

    it('validates status and marketingPreferences field by field, and answers 409 while this instance writes below v3', async () => {
      const bad = await http.post('/customers').send({ firstName: 'A', lastName: 'B', status: 'Gone', marketingPreferences: { email: 'yes', sms: false, fax: true } }).expect(400);
      expect(bad.body.details.map((d: { field: string }) => d.field).sort()).toEqual(['marketingPreferences.email', 'marketingPreferences.fax', 'status']);
      const early = await http.post('/customers').send({ firstName: 'A', lastName: 'B', status: 'Inactive' }).expect(409);
      expect(early.body.message).toBe('status and marketingPreferences can be written once this instance writes customers v3 (customers.status rollout); it writes v1 now');
      await http.post('/customers').send({ firstName: 'A', lastName: 'B', marketingPreferences: null }).expect(409);
    });

    it('documents the 1.1 fields in OpenAPI next to the 1.0 ones', async () => {
      const { body } = await http.get('/docs-json').expect(200);
      expect(body.info.version).toBe('1.1.0');
      const response = body.components.schemas.CustomerResponse;
      expect(Object.keys(response.properties)).toEqual(expect.arrayContaining(['firstName', 'lastName', 'fullName', 'status', 'marketingPreferences']));
      expect(response.properties.fullName.description).toMatch(/^Since API 1.1/);
      expect(Object.keys(body.components.schemas.CreateCustomerByParts.properties)).toEqual(expect.arrayContaining(['firstName', 'lastName']));
      expect(Object.keys(body.components.schemas.CreateCustomerByFullName.properties)).toEqual(expect.arrayContaining(['fullName']));
      expect(Object.keys(body.paths)).toEqual(expect.arrayContaining(['/customers', '/customers/{id}']));
    });

    it('states in OpenAPI what it sends and accepts: both POST shapes, id and cursor patterns, every error answer', async () => {
      const { body } = await http.get('/docs-json').expect(200);
      const post = body.paths['/customers'].post;
      expect(post.requestBody.content['application/json'].schema.oneOf).toEqual([
        { $ref: '#/components/schemas/CreateCustomerByParts' },
        { $ref: '#/components/schemas/CreateCustomerByFullName' },
      ]);
      expect(body.components.schemas.CreateCustomerByParts).toMatchObject({ required: ['firstName', 'lastName'], additionalProperties: false });
      expect(Object.keys(post.responses).sort()).toEqual(['201', '400', '401', '409', '413', '503', '504']);
      expect(post.responses['503'].headers).toHaveProperty('Retry-After');
      expect(Object.keys(body.paths['/customers/{id}'].patch.responses).sort()).toEqual(['200', '400', '401', '404', '409', '413', '503', '504']);
      const id = body.paths['/customers/{id}'].get.parameters.find((p: { name: string }) => p.name === 'id');
      expect(id.schema.pattern).toBe('^[0-9a-fA-F]{24}$');
      const after = body.paths['/customers'].get.parameters.find((p: { name: string }) => p.name === 'after');
      expect(after.schema.pattern).toBe('^[0-9a-fA-F]{24}$');
      expect(body.components.schemas.ErrorResponseBody.properties.details).toEqual(
        expect.objectContaining({ type: 'array', items: { $ref: '#/components/schemas/FieldErrorBody' } }),
      );
    });
  });

  describe('cursor pagination', () => {
    it('walks every customer exactly once, in id order, page by page', async () => {
      for (let i = 0; i < 7; i++) await http.post('/customers').send({ firstName: `Page${i}`, lastName: 'Walker' }).expect(201);
      const total = await customers().countDocuments();
      const seen: string[] = [];
      let after: string | null = null;
      let pages = 0;
      do {
        const res: request.Response = await http.get('/customers').query({ limit: 3, ...(after ? { after } : {}) }).expect(200);
        expect(res.body.items.length).toBeLessThanOrEqual(3);
        seen.push(...res.body.items.map((c: { id: string }) => c.id));
        after = res.body.next;
        pages++;
      } while (after);
      expect(seen).toHaveLength(total);
      expect(new Set(seen).size).toBe(total);
      expect([...seen].sort()).toEqual(seen);
      expect(pages).toBe(Math.ceil(total / 3));
    });

    it.each([
      ['limit=0', 'limit'],
      ['limit=101', 'limit'],
      ['limit=abc', 'limit'],
      ['limit=1&limit=2', 'limit'],
      ['limit=%201', 'limit'],
      ['limit=0x10', 'limit'],
      ['limit=1e2', 'limit'],
      ['limit=2.0', 'limit'],
      ['limit=', 'limit'],
      ['after=nope', 'after'],
      ['sort=name', 'sort'],
    ])('rejects the query %s with a 400 naming %s', async (query, field) => {
      const res = await http.get(`/customers?${query}`).expect(400);
      expect(res.body.details.map((d: { field: string }) => d.field)).toContain(field);
    });
  });

  describe('bad input', () => {
    it('answers an invalid body with 400 and one entry per invalid field', async () => {
      const res = await http.post('/customers').send({ firstName: 42, lastName: 'x'.repeat(101) }).expect(400);
      expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request', message: 'Validation failed' });
      expect(res.body.details.map((d: { field: string }) => d.field).sort()).toEqual(['firstName', 'lastName']);
    });

    it.each(['isAdmin', '__proto__', 'constructor', '_id', '_v'])('rejects the unknown key %s', async (key) => {
      const body = `{"firstName":"A","lastName":"B",${JSON.stringify(key)}:{"polluted":true}}`;
      const res = await http.post('/customers').set('content-type', 'application/json').send(body).expect(400);
      expect(res.body.details).toEqual([{ field: key, errors: [`property ${key} should not exist`] }]);
      expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    });

    it.each([
      [{ firstName: { $ne: null }, lastName: 'B' }],
      [{ firstName: 'A', lastName: 'B', $where: 'sleep(1000)' }],
      [{ firstName: 'A', lastName: 'B', nested: [{ $gt: '' }] }],
    ])('rejects $-prefixed keys anywhere in the body: %j', async (body) => {
      const before = await customers().countDocuments();
      const res = await http.post('/customers').send(body).expect(400);
      expect(JSON.stringify(res.body.details)).toContain('$');
      expect(await customers().countDocuments()).toBe(before);
    });

    it('rejects $-prefixed keys in the query string', async () => {
      await http.get('/customers?after[$gt]=').expect(400);
    });

    it('answers a malformed id with 400 naming the id, and an unknown one with 404', async () => {
      const bad = await http.get('/customers/not-an-id').expect(400);
      expect(bad.body.details).toEqual([{ field: 'id', errors: ['id must be a customer id: 24 hexadecimal characters'] }]);
      await http.patch('/customers/123').send({ firstName: 'A' }).expect(400);
      await http.delete('/customers/zzzzzzzzzzzzzzzzzzzzzzzz').expect(400);
      await http.get(`/customers/${new mongoose.Types.ObjectId().toHexString()}`).expect(404);
    });

    it('answers an oversized body with 413 and stores nothing', async () => {
      const before = await customers().countDocuments();
      const res = await http.post('/customers').send({ firstName: 'x'.repeat(3_000), lastName: 'B' }).expect(413);
      expect(res.body.statusCode).toBe(413);
      expect(await customers().countDocuments()).toBe(before);
    });

    it.each([
      ['a lone high surrogate', { firstName: 'Lone\ud800', lastName: 'B' }, 'firstName', 'firstName must be valid Unicode text: it contains a lone surrogate (invalid UTF-16)'],
      ['a lone low surrogate', { firstName: 'A', lastName: '\udc00x' }, 'lastName', 'lastName must be valid Unicode text: it contains a lone surrogate (invalid UTF-16)'],
      ['zero-width characters only', { firstName: '\u200b\u200c\u200d', lastName: 'B' }, 'firstName', 'firstName must contain at least one visible character'],
      ['a zero-width last name', { firstName: 'A', lastName: ' \u2060\ufeff ' }, 'lastName', 'lastName must contain at least one visible character, or be empty'],
      ['a control character inside', { fullName: 'Ada\u0007 King' }, 'fullName', 'fullName must not contain control characters'],
      ['101 characters', { firstName: 'x'.repeat(101), lastName: 'B' }, 'firstName', 'firstName must be at most 100 characters'],
    ])('refuses a name with %s (400 naming the field) and stores nothing', async (_what, body, field, error) => {
      const before = await customers().countDocuments();
      const res = await http.post('/customers').send(body).expect(400);
      expect(res.body.details).toEqual([{ field, errors: [error] }]);
      expect(await customers().countDocuments()).toBe(before);
    });

    it('stores a name exactly as sent apart from the spaces around it: astral characters, joiners between visible ones', async () => {
      const sent = { firstName: ' 👩‍🔬 Marie ', lastName: 'Skłodowska\u200cCurie' };
      const { body } = await http.post('/customers').send(sent).expect(201);
      const stored = await customers().findOne({ _id: new mongoose.Types.ObjectId(body.id as string) });
      expect(stored).toMatchObject({ firstName: '👩‍🔬 Marie', lastName: 'Skłodowska\u200cCurie' });
      expect(body).toMatchObject({ firstName: '👩‍🔬 Marie', lastName: 'Skłodowska\u200cCurie' });
      // 100 emoji are 100 characters (200 UTF-16 code units): accepted.
      await http.post('/customers').send({ firstName: '😀'.repeat(100), lastName: '' }).expect(201);
    });

    it('answers 405 with Allow for an unknown method on a known path', async () => {
      const res = await http.put('/customers').send({}).expect(405);
      expect(res.headers['allow']).toBe('GET, HEAD, POST');
      const one = await http.post(`/customers/${new mongoose.Types.ObjectId().toHexString()}`).expect(405);
      expect(one.headers['allow']).toBe('DELETE, GET, HEAD, PATCH');
    });

    it('answers malformed JSON and an empty PATCH with 400', async () => {
      await http.post('/customers').set('content-type', 'application/json').send('{"firstName": ').expect(400);
      const { body } = await http.post('/customers').send({ firstName: 'A', lastName: 'B' }).expect(201);
      const empty = await http.patch(`/customers/${body.id}`).send({}).expect(400);
      expect(empty.body.details).toEqual([{ field: 'body', errors: ['give at least one of firstName, lastName, fullName, status, marketingPreferences'] }]);
    });
  });

  describe('random JSON bodies (seeded fuzz)', () => {
    const SEED = Number(process.env.FUZZ_SEED ?? 20240611);
    const CASES = Number(process.env.FUZZ_CASES ?? 250);
    const random = seededRandom(SEED);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)];
    const setOwn = (body: Record<string, unknown>, key: string, value: unknown) =>
      Object.defineProperty(body, key, { value, enumerable: true, writable: true, configurable: true });

    /** Half the bodies are a valid one with one random mutation, so the valid paths are exercised too. */
    const nextBody = (): unknown => {
      if (random() < 0.5) return randomJson(random, { keys: CUSTOMER_BODY_KEYS });
      const body: Record<string, unknown> =
        random() < 0.7
          ? { firstName: `Fuzz ${Math.floor(random() * 1000)}`, lastName: random() < 0.2 ? '' : 'Tester' }
          : { fullName: `Fuzz Full ${Math.floor(random() * 1000)}` };
      const mutation = Math.floor(random() * 5);
      if (mutation === 0) delete body[pick(Object.keys(body))];
      else if (mutation === 1) setOwn(body, pick(CUSTOMER_BODY_KEYS), randomJson(random, { keys: CUSTOMER_BODY_KEYS, maxDepth: 2 }));
      else if (mutation === 3) setOwn(body, pick([...HOSTILE_KEYS, 'extra']), randomJson(random, { maxDepth: 1 }));
      else if (mutation === 4) setOwn(body, 'status', pick(['Active', 'Inactive', 'Blocked']));
      return body;
    };

    it(`never answers 5xx, answers exactly what the rules say, and writes nothing for rejected bodies (${CASES} cases, seed ${SEED})`, async () => {
      const { body: target } = await http.post('/customers').send({ firstName: 'Fuzz', lastName: 'Target' }).expect(201);
      const targetId = new mongoose.Types.ObjectId(target.id);
      const statuses: Record<number, number> = {};
      for (let i = 0; i < CASES; i++) {
        const body = nextBody();
        const patch = random() < 0.5;
        const beforeCount = await customers().countDocuments();
        const beforeTarget = await customers().findOne({ _id: targetId });
        const current = (await http.get(`/customers/${target.id}`).expect(200)).body;
        const res = patch
          ? await http.patch(`/customers/${target.id}`).set('content-type', 'application/json').send(JSON.stringify(body))
          : await http.post('/customers').set('content-type', 'application/json').send(JSON.stringify(body));
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        const context = `case ${i} (seed ${SEED}): ${patch ? 'PATCH' : 'POST'} ${JSON.stringify(body)} -> ${res.status} ${JSON.stringify(res.body)}`;
        const expected = Buffer.byteLength(JSON.stringify(body)) > BODY_LIMIT ? 413 : expectedStatus(body, patch ? current : undefined);
        if (res.status !== expected) throw new Error(`expected ${expected}, got ${context}`);
        if (res.status >= 400) {
          const after = { count: await customers().countDocuments(), target: await customers().findOne({ _id: targetId }) };
          expect(after).toEqual({ count: beforeCount, target: beforeTarget });
          continue;
        }
        const sent = body as Record<string, string>;
        for (const field of ['firstName', 'lastName', 'fullName']) if (field in sent) expect(res.body[field]).toBe(sent[field].trim());
        const stored = await customers().findOne({ _id: new mongoose.Types.ObjectId(res.body.id) });
        expect({ firstName: stored?.['firstName'], lastName: stored?.['lastName'] }).toEqual({ firstName: res.body.firstName, lastName: res.body.lastName });
        if (!patch) expect(await customers().countDocuments()).toBe(beforeCount + 1);
      }
      console.info(`[customers fuzz] seed ${SEED}: ${CASES} bodies, statuses ${JSON.stringify(statuses)}`);
      for (const status of [200, 201, 400, 409]) expect(statuses[status] ?? 0).toBeGreaterThan(0);
      await http.get('/health/live').expect(200);
    });
  });
});
