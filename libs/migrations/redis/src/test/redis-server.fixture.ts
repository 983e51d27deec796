import { ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';

/** A Redis for one test suite: `REDIS_URL` when set, otherwise a fresh local redis-server. */
export interface TestRedis {
  url: string;
  /** Unique key prefix of this suite. */
  prefix: string;
  /** A new client; closed by `stop()`. */
  client(): Redis;
  /** Closes clients, then stops the local server or deletes this suite's keys. */
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** True once the server answers PING (raw RESP over TCP, so no client is left reconnecting). */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.setTimeout(500);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (d) => {
      socket.destroy();
      resolve(String(d).startsWith('+PONG'));
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

async function waitForPing(port: number, proc: ChildProcess, stderr: () => string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (proc.exitCode !== null) throw new Error(`redis-server exited with ${proc.exitCode}: ${stderr()}`);
    if (await ping(port)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`redis-server did not answer PING on port ${port}: ${stderr()}`);
}

export async function startTestRedis(suite: string): Promise<TestRedis> {
  const prefix = `zdm-test:${suite}:${randomUUID().slice(0, 8)}:`;
  let url = process.env['REDIS_URL'];
  let proc: ChildProcess | undefined;
  let dir: string | undefined;
  if (!url) {
    const port = await freePort();
    dir = mkdtempSync(join(tmpdir(), 'zdm-redis-'));
    proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    proc.stderr?.on('data', (d) => (err += String(d)));
    url = `redis://127.0.0.1:${port}`;
    await waitForPing(port, proc, () => err);
  }
  const clients: Redis[] = [];
  const serverUrl = url;
  return {
    url: serverUrl,
    prefix,
    client() {
      const c = new Redis(serverUrl, { maxRetriesPerRequest: 2 });
      clients.push(c);
      return c;
    },
    async stop() {
      if (!proc) {
        const c = new Redis(serverUrl);
        let cursor = '0';
        do {
          const [next, keys] = await c.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
          cursor = next;
          if (keys.length) await c.unlink(...keys);
        } while (cursor !== '0');
        clients.push(c);
      }
      await Promise.all(clients.map((c) => c.quit().catch(() => undefined)));
      if (proc && proc.exitCode === null) {
        const exited = new Promise((r) => proc?.once('close', r));
        proc.kill('SIGTERM');
        await exited;
      }
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
