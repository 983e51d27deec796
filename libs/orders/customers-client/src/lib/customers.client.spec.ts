import { DependencyUnavailableError, classifyDependencyError, runWithDeadline } from '@zdm/service-defaults';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CustomersClient, CustomersUnavailableError, deriveFullName } from './customers.client';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A real HTTP server on 127.0.0.1 whose answer each test chooses. */
class FakeCustomersApi {
  handler: Handler = (_req, res) => res.writeHead(500).end();
  readonly paths: string[] = [];
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      this.paths.push(req.url ?? '');
      this.handler(req, res);
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  answerJson(status: number, body: unknown): void {
    this.handler = (_req, res) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  }
}

const ID = '665f1c2ab4d9e0a1b2c3d4e5';
const v10 = { id: ID, firstName: 'Mary Ann', lastName: 'Evans', createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z' };
const v11 = { ...v10, fullName: 'Mary Ann Evans', status: 'Active', marketingPreferences: null };

async function failure(promise: Promise<unknown>): Promise<CustomersUnavailableError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CustomersUnavailableError);
  return err as CustomersUnavailableError;
}

describe('CustomersClient', () => {
  const api = new FakeCustomersApi();
  let client: CustomersClient;

  beforeAll(() => api.start());
  afterAll(() => api.stop());
  beforeEach(() => {
    api.paths.length = 0;
    client = new CustomersClient({ baseUrl: `${api.url}/`, timeoutMs: 1_000 });
  });

  it('reads a customer from API 1.0 and derives fullName as customers does', async () => {
    api.answerJson(200, v10);
    await expect(client.getCustomer(ID)).resolves.toEqual({ id: ID, firstName: 'Mary Ann', lastName: 'Evans', fullName: 'Mary Ann Evans' });
    expect(api.paths).toEqual([`/customers/${ID}`]);
  });

  it('takes fullName from API 1.1 when it sends one', async () => {
    api.answerJson(200, { ...v11, fullName: 'Mary Ann  Evans' });
    await expect(client.getCustomer(ID)).resolves.toEqual({ id: ID, firstName: 'Mary Ann', lastName: 'Evans', fullName: 'Mary Ann  Evans' });
  });

  it('derives fullName with no stray space when a part is empty', () => {
    expect(deriveFullName('Cher', '')).toBe('Cher');
    expect(deriveFullName('', 'Prince')).toBe('Prince');
    expect(deriveFullName('Ludwig', 'van Beethoven')).toBe('Ludwig van Beethoven');
    expect(deriveFullName('', '')).toBe('');
  });

  it('answers undefined for a customer the API does not know (404)', async () => {
    api.answerJson(404, { statusCode: 404, message: 'customer not found' });
    await expect(client.getCustomer(ID)).resolves.toBeUndefined();
  });

  it('escapes the id into one path segment', async () => {
    api.answerJson(404, {});
    await client.getCustomer('a/b?c');
    expect(api.paths).toEqual(['/customers/a%2Fb%3Fc']);
  });

  it('throws CustomersUnavailableError naming the status on a 5xx, which the service defaults answer 503 for customers', async () => {
    api.answerJson(503, { message: 'mongo is unavailable' });
    const err = await failure(client.getCustomer(ID));
    expect(err.status).toBe(503);
    expect(err.message).toBe('customers is unavailable: GET /customers/:id answered 503');
    expect(err).toBeInstanceOf(DependencyUnavailableError);
    expect(classifyDependencyError(err)).toEqual({ kind: 'unavailable', dependency: 'customers', reason: 'GET /customers/:id answered 503' });
  });

  it('throws CustomersUnavailableError naming the fields when the body is not a customer', async () => {
    api.answerJson(200, { id: ID, givenName: 'Ada', lastName: 'Lovelace' });
    const err = await failure(client.getCustomer(ID));
    expect(err.reason).toMatch(/not a customer \(firstName: /);
  });

  it('throws CustomersUnavailableError when the body is not JSON', async () => {
    api.handler = (_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>');
    expect((await failure(client.getCustomer(ID))).reason).toBe('GET /customers/:id answered a body that is not JSON');
  });

  it('throws CustomersUnavailableError when nothing listens at the URL', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const closed = new CustomersClient({ baseUrl: `http://127.0.0.1:${port}` });
    expect((await failure(closed.getCustomer(ID))).reason).toBe('the customers API cannot be reached');
  });

  it('gives up after timeoutMs when the API does not answer', async () => {
    api.handler = () => undefined; // never answers
    const started = Date.now();
    const err = await failure(new CustomersClient({ baseUrl: api.url, timeoutMs: 200 }).getCustomer(ID));
    expect(err.reason).toBe('no answer within 200 ms');
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(Date.now() - started).toBeLessThan(900);
  });

  it('gives up at the deadline when it comes before the timeout', async () => {
    api.handler = () => undefined;
    const started = Date.now();
    const err = await failure(client.getCustomer(ID, { deadline: started + 150 }));
    expect(err.reason).toMatch(/^no answer within 1[0-5]\d ms$/);
    expect(Date.now() - started).toBeLessThan(800);
  });

  it('uses the current request deadline when the caller passes none', async () => {
    api.handler = () => undefined;
    const started = Date.now();
    await failure(runWithDeadline(started + 150, () => client.getCustomer(ID)));
    expect(Date.now() - started).toBeLessThan(800);
  });

  it('sends nothing once the deadline has passed', async () => {
    api.answerJson(200, v11);
    const err = await failure(client.getCustomer(ID, { deadline: Date.now() - 1 }));
    expect(err.reason).toBe('the deadline passed before the request was sent');
    expect(api.paths).toEqual([]);
  });

  it('calls the fetch it was given', async () => {
    const seen: string[] = [];
    const fetchSpy: typeof fetch = async (input) => {
      seen.push(String(input));
      return new Response(JSON.stringify(v11), { status: 200, headers: { 'content-type': 'application/json' } });
    };
    const viaSpy = new CustomersClient({ baseUrl: 'http://customers.invalid:3000', fetch: fetchSpy });
    await expect(viaSpy.getCustomer(ID)).resolves.toMatchObject({ fullName: 'Mary Ann Evans' });
    expect(seen).toEqual([`http://customers.invalid:3000/customers/${ID}`]);
  });
});
