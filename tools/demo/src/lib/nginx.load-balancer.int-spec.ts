import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { NginxLoadBalancer, summarizeAccessLog } from './nginx.load-balancer';
import { freePort, sleep } from './os.util';
import { ProcessSupervisor } from './process-supervisor';

jest.setTimeout(60_000);

/**
 * An upstream answering with its name after `delayMs`; `crash` closes the connection once the
 * request arrived; `unavailable` answers every request 503 with Retry-After, as a service whose
 * store is down does.
 */
async function upstream(name: string, behaviour: { delayMs?: number; crash?: boolean; unavailable?: boolean } = {}) {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (behaviour.crash) return req.socket.destroy();
      if (behaviour.unavailable) return res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' }).end(`{"dependency":"mongo","from":"${name}"}`);
      setTimeout(() => res.writeHead(req.method === 'POST' ? 201 : 200, { 'content-type': 'text/plain' }).end(name), behaviour.delayMs ?? 0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return { port, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

function call(url: string, method: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = http.request(url, { method, agent: false, headers: { connection: 'close', 'content-type': 'application/json' } }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', () => resolve({ status: 0, body: '' }));
    req.end(method === 'GET' ? undefined : '{"firstName":"Ada"}');
  });
}

describe('nginx in front of the services\' instances (real nginx)', () => {
  let dir: string;
  let supervisor: ProcessSupervisor;
  const closers: (() => Promise<void>)[] = [];

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'zdm-nginx-'));
    supervisor = new ProcessSupervisor(dir);
  });
  afterEach(async () => {
    await supervisor.stopAll(5_000);
    for (const close of closers.splice(0)) await close();
    rmSync(dir, { recursive: true, force: true });
  });

  let prefixes = 0;
  const servers = (ports: number[]) => ports.map((port) => ({ host: '127.0.0.1', port }));
  async function start(ports: number[], orders: number[] = []) {
    const upstreams = { customers: servers(ports), ...(orders.length ? { orders: servers(orders) } : {}) };
    const lb = await NginxLoadBalancer.start({ supervisor, prefix: path.join(dir, `nginx-${++prefixes}`), host: '127.0.0.1', port: await freePort(), upstreams, note: 'test' });
    closers.push(() => lb.stop());
    return lb;
  }

  it('switches to other instances with a graceful reload while requests keep coming, and none fails', async () => {
    const blue = await upstream('blue', { delayMs: 30 });
    const green = await upstream('green', { delayMs: 30 });
    closers.push(blue.close, green.close);
    const lb = await start([blue.port]);
    const answers: Promise<{ status: number; body: string }>[] = [];
    let switched = 0;
    const loop = (async () => {
      for (let i = 0; i < 300; i++) {
        answers.push(call(`${lb.url}/customers`, i % 3 === 0 ? 'POST' : 'GET'));
        await sleep(5);
      }
    })();
    await sleep(400);
    const change = await lb.setUpstream('customers', [{ host: '127.0.0.1', port: green.port }], 'switch to green');
    switched = answers.length;
    await loop;
    const results = await Promise.all(answers);
    expect(change.generation).toBe(1);
    expect(results.filter((r) => r.status !== 200 && r.status !== 201)).toEqual([]);
    expect(results.slice(0, 10).every((r) => r.body === 'blue')).toBe(true);
    // Every request sent once the reload finished went to green.
    expect(results.slice(switched).every((r) => r.body === 'green')).toBe(true);
  });

  it('sends a request that could not connect to the next instance, POST included', async () => {
    const green = await upstream('green');
    closers.push(green.close);
    const dead = await freePort();
    const lb = await start([dead, green.port]);
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => call(`${lb.url}/customers`, i % 2 ? 'POST' : 'GET')));
    expect(results.map((r) => r.body)).toEqual(new Array(10).fill('green'));
    await sleep(100);
    expect(summarizeAccessLog(readFileSync(lb.accessLog, 'utf8')).retried).toBeGreaterThan(0);
  });

  it('retries a GET, but not a POST, that reached an instance which then failed', async () => {
    const crashing = await upstream('crashing', { crash: true });
    const green = await upstream('green');
    closers.push(crashing.close, green.close);
    // A fresh nginx sends its first request to the first server of the upstream: the crashing one.
    const forGet = await start([crashing.port, green.port]);
    expect(await call(`${forGet.url}/customers/1`, 'GET')).toEqual({ status: 200, body: 'green' });
    await sleep(100);
    expect(readFileSync(forGet.accessLog, 'utf8')).toContain(`"127.0.0.1:${crashing.port}, 127.0.0.1:${green.port}"`);
    await forGet.stop();
    const forPost = await start([crashing.port, green.port]);
    expect((await call(`${forPost.url}/customers`, 'POST')).status).toBe(502);
    await sleep(100); // nginx logs a request once it has answered it
    expect(summarizeAccessLog(readFileSync(forPost.accessLog, 'utf8'))).toEqual({ requests: 1, retried: 0, upstreamErrors: 1 });
  });

  it('sends a GET that an instance answered 503 to the next one, and never a write (POST, PATCH, DELETE)', async () => {
    const unavailable = await upstream('unavailable', { unavailable: true });
    const green = await upstream('green');
    closers.push(unavailable.close, green.close);
    for (const method of ['GET', 'POST', 'PATCH', 'DELETE']) {
      // A fresh nginx sends its first request to the first server of the upstream: the unavailable one.
      const lb = await start([unavailable.port, green.port]);
      const answer = await call(`${lb.url}/customers/${'a'.repeat(24)}`, method);
      if (method === 'GET') expect(answer).toEqual({ status: 200, body: 'green' });
      else expect(answer).toEqual({ status: 503, body: '{"dependency":"mongo","from":"unavailable"}' });
      await sleep(100);
      expect(summarizeAccessLog(readFileSync(lb.accessLog, 'utf8')).retried).toBe(method === 'GET' ? 1 : 0);
      await lb.stop();
    }
  });

  it('routes each service\'s path to its own upstream, and switches one service without touching the other', async () => {
    const [customersBlue, ordersBlue, ordersGreen] = await Promise.all([upstream('customers-blue'), upstream('orders-blue'), upstream('orders-green')]);
    closers.push(customersBlue.close, ordersBlue.close, ordersGreen.close);
    const lb = await start([customersBlue.port], [ordersBlue.port]);
    expect((await call(`${lb.url}/orders/${'a'.repeat(24)}`, 'GET')).body).toBe('orders-blue');
    expect((await call(`${lb.url}/orders?customerId=x`, 'GET')).body).toBe('orders-blue');
    expect((await call(`${lb.url}/customers/1`, 'GET')).body).toBe('customers-blue');
    expect((await call(`${lb.url}/ordersx`, 'GET')).body).toBe('customers-blue');
    await lb.setUpstream('orders', servers([ordersGreen.port]), 'switch orders to green');
    expect((await call(`${lb.url}/orders`, 'POST')).body).toBe('orders-green');
    expect((await call(`${lb.url}/customers`, 'POST')).body).toBe('customers-blue');
    expect(lb.servers('customers')).toEqual(servers([customersBlue.port]));
    await expect(lb.setUpstream('payments', servers([ordersGreen.port]), 'none')).rejects.toThrow('no upstream payments');
  });

  it('serves the auth hub under /auth, without the prefix, writes never sent twice; without an auth-hub upstream /auth answers 502', async () => {
    const seen: string[] = [];
    const hub = http.createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      req.resume().on('end', () => res.writeHead(req.method === 'POST' ? 201 : 200, { 'content-type': 'text/plain' }).end('auth-hub'));
    });
    await new Promise<void>((resolve) => hub.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise<void>((resolve) => hub.close(() => resolve())));
    const customers = await upstream('customers');
    closers.push(customers.close);
    const without = await start([customers.port]);
    expect((await call(`${without.url}/auth/sessions`, 'POST')).status).toBe(502);
    const lb = await NginxLoadBalancer.start({
      supervisor,
      prefix: path.join(dir, 'nginx-auth'),
      host: '127.0.0.1',
      port: await freePort(),
      upstreams: { customers: servers([customers.port]), 'auth-hub': servers([(hub.address() as net.AddressInfo).port]) },
      note: 'test',
    });
    closers.push(() => lb.stop());
    expect(await call(`${lb.url}/auth/sessions/refresh`, 'POST')).toEqual({ status: 201, body: 'auth-hub' });
    expect(await call(`${lb.url}/auth/.well-known/jwks.json`, 'GET')).toEqual({ status: 200, body: 'auth-hub' });
    expect((await call(`${lb.url}/customers/1`, 'GET')).body).toBe('customers');
    expect(seen).toEqual(['POST /sessions/refresh', 'GET /.well-known/jwks.json']);
  });
});
