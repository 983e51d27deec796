import { existsSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { homedir } from 'node:os';
import path from 'node:path';

/** Resolves true if host:port accepts a TCP connection within timeoutMs. Never rejects. */
export function connectTcp(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface HttpResult {
  status: number;
  body: string;
}

/** Minimal HTTP request with a hard timeout (also used on unix sockets). */
export function httpRequest(
  target: string | { socketPath: string; path: string },
  opts: { method?: string; headers?: Record<string, string>; body?: unknown; timeoutMs?: number } = {},
): Promise<HttpResult> {
  const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  const headers: Record<string, string> = { ...opts.headers };
  if (payload !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(Buffer.byteLength(payload));
  }
  return new Promise((resolve, reject) => {
    const reqOpts = { method: opts.method ?? 'GET', headers, timeout: opts.timeoutMs ?? 5000, agent: false };
    const req =
      typeof target === 'string'
        ? http.request(target, reqOpts)
        : http.request({ ...reqOpts, socketPath: target.socketPath, path: target.path });
    req.once('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.once('error', reject);
    });
    req.once('timeout', () => req.destroy(new Error(`timeout after ${reqOpts.timeout} ms`)));
    req.once('error', reject);
    req.end(payload);
  });
}

export interface DockerProbe {
  available: boolean;
  /** Where it looked, or why it is unavailable; for messages. */
  detail: string;
}

function dockerSocketCandidates(): string[] {
  const runtimeDir = process.env.XDG_RUNTIME_DIR;
  return [
    '/var/run/docker.sock',
    path.join(homedir(), '.docker', 'run', 'docker.sock'),
    path.join(homedir(), '.docker', 'desktop', 'docker.sock'),
    ...(runtimeDir ? [path.join(runtimeDir, 'docker.sock'), path.join(runtimeDir, 'podman', 'podman.sock')] : []),
  ];
}

async function pingSocket(socketPath: string, timeoutMs: number): Promise<boolean> {
  try {
    const res = await httpRequest({ socketPath, path: '/_ping' }, { timeoutMs });
    return res.status === 200;
  } catch {
    return false;
  }
}

/**
 * Cheap check whether a Docker engine answers: DOCKER_HOST (unix or tcp) or a known
 * socket must exist and answer `/_ping` within timeoutMs. Never hangs.
 */
export async function probeDocker(timeoutMs = 1500): Promise<DockerProbe> {
  const host = process.env.DOCKER_HOST;
  if (host) {
    if (host.startsWith('unix://')) {
      const socketPath = host.slice('unix://'.length);
      const ok = existsSync(socketPath) && (await pingSocket(socketPath, timeoutMs));
      return { available: ok, detail: `DOCKER_HOST=${host} ${ok ? 'answers' : 'does not answer'}` };
    }
    if (host.startsWith('tcp://')) {
      const url = new URL(host.replace(/^tcp:/, 'http:'));
      const tls = Boolean(process.env.DOCKER_TLS_VERIFY);
      // With TLS only the TCP connect is checked (certificates are testcontainers' business).
      const ok = tls
        ? await connectTcp(url.hostname, Number(url.port || 2376), timeoutMs)
        : await httpRequest(`http://${url.host}/_ping`, { timeoutMs }).then((r) => r.status === 200, () => false);
      return { available: ok, detail: `DOCKER_HOST=${host} ${ok ? 'answers' : 'does not answer'}` };
    }
    return { available: true, detail: `DOCKER_HOST=${host} (not probed)` };
  }
  const sockets = dockerSocketCandidates().filter((s) => existsSync(s));
  for (const socketPath of sockets) {
    if (await pingSocket(socketPath, timeoutMs)) return { available: true, detail: `${socketPath} answers` };
  }
  return {
    available: false,
    detail: sockets.length ? `${sockets.join(', ')} did not answer` : 'no DOCKER_HOST and no docker.sock found',
  };
}

let dockerProbe: Promise<DockerProbe> | undefined;
/** probeDocker(), once per process. */
export const dockerStatus = (): Promise<DockerProbe> => (dockerProbe ??= probeDocker());
