import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connectTcp, freePort, probeDocker } from './net';

describe('net helpers', () => {
  const savedHost = process.env.DOCKER_HOST;
  const cleanups: (() => void | Promise<void>)[] = [];
  const listen = async <S extends net.Server>(server: S, ...args: unknown[]): Promise<S> => {
    server.listen(...(args as Parameters<net.Server['listen']>));
    await new Promise((resolve) => server.once('listening', resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    return server;
  };

  afterEach(async () => {
    if (savedHost === undefined) delete process.env.DOCKER_HOST;
    else process.env.DOCKER_HOST = savedHost;
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('finds free ports and reports whether they answer', async () => {
    const port = await freePort();
    expect(await connectTcp('127.0.0.1', port, 500)).toBe(false);
    await listen(net.createServer(), port, '127.0.0.1');
    expect(await connectTcp('127.0.0.1', port, 500)).toBe(true);
  });

  it('reports Docker unavailable for a missing socket', async () => {
    process.env.DOCKER_HOST = 'unix:///nonexistent/docker.sock';
    expect(await probeDocker(300)).toEqual({ available: false, detail: expect.stringContaining('does not answer') });
  });

  it('does not hang on a socket that accepts but never answers', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'zdm-docker-probe-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const sockets: net.Socket[] = [];
    const socketPath = path.join(dir, 'docker.sock');
    await listen(net.createServer((s) => sockets.push(s)), socketPath);
    cleanups.push(() => sockets.forEach((s) => s.destroy()));
    process.env.DOCKER_HOST = `unix://${socketPath}`;
    const started = Date.now();
    expect((await probeDocker(300)).available).toBe(false);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('reports Docker available when /_ping answers 200', async () => {
    const port = await freePort();
    const server = await listen(http.createServer((req, res) => res.end(req.url === '/_ping' ? 'OK' : '')), port, '127.0.0.1');
    cleanups.push(() => server.closeAllConnections());
    process.env.DOCKER_HOST = `tcp://127.0.0.1:${port}`;
    expect((await probeDocker(1000)).available).toBe(true);
  });
});
