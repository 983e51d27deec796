import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in for Unleash's client API (`GET /api/client/features`) that tests control: which flags
 * are on, and whether the server is reachable at all. Every other path answers 200 `{}`.
 */
export class FakeUnleashServer {
  /** Flags served, by name. */
  features: Record<string, boolean> = {};
  /** Authorization headers seen on feature requests. */
  readonly tokens = new Set<string>();
  private server: http.Server | undefined;
  private port = 0;

  get url(): string {
    return `http://127.0.0.1:${this.port}/api`;
  }

  /** Starts listening (again, on the same port after {@link stop}). */
  async start(): Promise<this> {
    const server = http.createServer((req, res) => {
      if (req.url?.startsWith('/api/client/features')) {
        this.tokens.add(String(req.headers.authorization));
        const features = Object.entries(this.features).map(([name, enabled]) => ({ name, enabled, strategies: [{ name: 'default', parameters: {} }] }));
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ version: 2, features }));
      } else {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      }
    });
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
    return this;
  }

  /** Stops listening and cuts open connections: the server is unreachable until {@link start}. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** A URL on which nothing listens (a port that was free a moment ago). */
export async function unreachableUrl(): Promise<string> {
  const server = await new FakeUnleashServer().start();
  const url = server.url;
  await server.stop();
  return url;
}
