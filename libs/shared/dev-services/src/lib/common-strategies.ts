import { launchSupervised, tcpReady, versionOf } from './local-process';
import { connectTcp, dockerStatus, freePort } from './net';
import { handle, noop, type NotApplicable, type Strategy } from './resolve';
import type { ServiceHandle, ServiceName, StartOptions } from './types';

/** `mongodb://user:secret@host` -> `mongodb://***@host` for logs. */
export const redact = (url: string): string => url.replace(/\/\/[^/@]*@/, '//***@');

/** Environment variable carrying a human description of an env-provided service (set by serviceEnv). */
export const descriptionVar = (service: ServiceName): string => `ZDM_${service.toUpperCase()}_DESCRIPTION`;

/** Single host:port of a URL, if it has exactly one (mongodb+srv and replica-set lists do not). */
function hostPort(url: string, defaultPort: number): { host: string; port: number } | undefined {
  try {
    const parsed = new URL(url);
    if (!parsed.hostname || parsed.protocol.endsWith('+srv:')) return undefined;
    return { host: parsed.hostname.replace(/^\[|\]$/g, ''), port: Number(parsed.port || defaultPort) };
  } catch {
    return undefined;
  }
}

/** `env` strategy for a URL in `varName`: checks that something answers there. */
export function envUrlStrategy<T extends ServiceHandle & { url: string }>(service: ServiceName, varName: string, defaultPort: number): Strategy<T> {
  return {
    source: 'env',
    label: varName,
    start: async () => {
      const startedAt = Date.now();
      const url = process.env[varName];
      if (!url) return { skip: 'not set' };
      const target = hostPort(url, defaultPort);
      if (target && !(await connectTcp(target.host, target.port, 3000))) {
        throw new Error(`${varName}=${redact(url)} is set but nothing answers at ${target.host}:${target.port}; start that server or unset ${varName} to let dev-services provide one`);
      }
      const described = process.env[descriptionVar(service)];
      return { url, ...handle('env', `${described ? `${described} via ` : ''}${varName}=${redact(url)}`, startedAt, noop) } as T;
    },
  };
}

export interface StartedContainer {
  getId(): string;
  stop(): Promise<unknown>;
}

/**
 * `testcontainers` strategy, only when a Docker engine answers (probed cheaply, once).
 * `start` runs the container and says its URL; Ryuk removes it if this process dies.
 */
export function containerStrategy<T extends ServiceHandle & { url: string }>(
  image: string,
  start: (image: string) => Promise<{ container: StartedContainer; url: string }>,
): Strategy<T> {
  return {
    source: 'testcontainers',
    label: `testcontainers (${image})`,
    start: async (): Promise<T | NotApplicable> => {
      const docker = await dockerStatus();
      if (!docker.available) return { skip: `no Docker engine (${docker.detail})` };
      const startedAt = Date.now();
      const { container, url } = await start(image);
      const stop = async () => {
        await container.stop();
      };
      return { url, ...handle('testcontainers', `${image} container ${container.getId().slice(0, 12)}`, startedAt, stop) } as T;
    },
  };
}

export interface LocalServerSpec {
  name: string;
  /** Finds the binary (lazily: only when this strategy is reached); `searched` says where it looked. */
  locate: () => { bin?: string; searched: string };
  args: (port: number, dir: string) => string[];
  describe: (version: string, pid: number) => string;
  url: (port: number) => string;
  /** Runs once the server answers, in this process; the function it returns runs before the server stops. */
  afterStart?: (dir: string) => () => void;
}

/** `local` strategy for a single-binary TCP server (FerretDB, redis-server). */
export function localServerStrategy<T extends ServiceHandle & { url: string }>(spec: LocalServerSpec, opts: StartOptions): Strategy<T> {
  return {
    source: 'local',
    label: `local ${spec.name}`,
    start: async () => {
      const startedAt = Date.now();
      const { bin, searched } = spec.locate();
      if (!bin) return { skip: `${spec.name} not found (${searched})` };
      const launch = async () => {
        const port = await freePort();
        const proc = await launchSupervised({
          name: spec.name,
          command: bin,
          args: (dir) => spec.args(port, dir),
          ready: tcpReady(port),
          timeoutMs: opts.timeoutMs,
        });
        return { port, proc };
      };
      // A free port can be taken between the probe and the bind: one more try then.
      const { port, proc } = await launch().catch((err: Error) => {
        if (/address already in use|EADDRINUSE/i.test(err.message)) return launch();
        throw err;
      });
      const description = spec.describe(versionOf(bin), proc.pid);
      const detach = spec.afterStart?.(proc.dir) ?? (() => undefined);
      const stop = async () => {
        detach();
        await proc.stop();
      };
      return { url: spec.url(port), ...handle('local', description, startedAt, stop, { pid: proc.pid, dir: proc.dir }) } as T;
    },
  };
}
