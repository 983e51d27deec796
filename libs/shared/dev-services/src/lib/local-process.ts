import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { connectTcp } from './net';

const SUPERVISOR = path.join(__dirname, '..', 'scripts', 'supervisor.cjs');

/** A server process started through `scripts/supervisor.cjs`. */
export interface SupervisedProcess {
  /** pid of the server, which is also its process-group id. */
  pid: number;
  /** Private temp directory (removed on stop, or when this process dies). */
  dir: string;
  logFile: string;
  stop(): Promise<void>;
}

export interface LaunchOptions {
  name: string;
  command: string;
  args: (dir: string) => string[];
  env?: NodeJS.ProcessEnv;
  /** Variables added to `env` once the temp dir is known (kept out of the command line). */
  extraEnv?: (dir: string) => Record<string, string>;
  /** Resolves true once the server is usable; polled every 100 ms. */
  ready: (dir: string, logFile: string) => Promise<boolean>;
  timeoutMs?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function isExecutable(file: string): boolean {
  try {
    return statSync(file).isFile() && (statSync(file).mode & 0o111) !== 0;
  } catch {
    return false;
  }
}

/** GOPATH/bin candidates: `go env GOPATH` (when Go is installed) and ~/go/bin. */
export function goBinDirs(): string[] {
  const dirs: string[] = [];
  if (process.env.GOBIN) dirs.push(process.env.GOBIN);
  if (process.env.GOPATH) dirs.push(...process.env.GOPATH.split(path.delimiter).map((p) => path.join(p, 'bin')));
  try {
    const gopath = execFileSync('go', ['env', 'GOPATH'], { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    if (gopath) dirs.push(path.join(gopath, 'bin'));
  } catch {
    // Go is optional at run time
  }
  dirs.push(path.join(homedir(), 'go', 'bin'));
  return [...new Set(dirs)];
}

/**
 * First executable named `name` in: the explicit path from `envVar`, PATH, then `extraDirs`.
 * Returns undefined when none is found.
 */
export function findExecutable(name: string, envVar?: string, extraDirs: string[] = []): string | undefined {
  const explicit = envVar ? process.env[envVar] : undefined;
  if (explicit) return isExecutable(explicit) ? explicit : undefined;
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/sbin', '/usr/local/sbin', ...extraDirs];
  return dirs.filter(Boolean).map((d) => path.join(d, name)).find(isExecutable);
}

/** First line of `<bin> --version`, or '' if it cannot be read. */
export function versionOf(bin: string): string {
  try {
    return execFileSync(bin, ['--version'], { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] }).split('\n')[0].trim();
  } catch {
    return '';
  }
}

/** A Node binary >= 22 (unleash-server's minimum): this one, the `node` devDependency, or PATH. */
export function modernNode(): string | undefined {
  const major = (v: string) => Number(/v?(\d+)/.exec(v)?.[1] ?? 0);
  if (major(process.versions.node) >= 22) return process.execPath;
  const candidates: string[] = [];
  try {
    candidates.push(path.join(path.dirname(require.resolve('node/package.json')), 'bin', 'node'));
  } catch {
    // the devDependency is not installed
  }
  const onPath = findExecutable('node');
  if (onPath) candidates.push(onPath);
  return candidates.find((bin) => isExecutable(bin) && major(versionOf(bin)) >= 22);
}

export function makeTempDir(name: string): string {
  return mkdtempSync(path.join(tmpdir(), `zdm-${name}-`));
}

/** Resolves true when something accepts TCP connections on 127.0.0.1:port. */
export const tcpReady = (port: number) => () => connectTcp('127.0.0.1', port, 500);

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

export function tailOf(file: string, lines = 25): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/**
 * Starts a server through the supervisor (so it dies with this process, however this
 * process ends) and waits until `ready` says yes. Throws with the log tail on failure.
 */
export async function launchSupervised(opts: LaunchOptions): Promise<SupervisedProcess> {
  const dir = makeTempDir(opts.name);
  const logFile = path.join(dir, 'server.log');
  const config = {
    command: opts.command,
    args: opts.args(dir),
    cwd: dir,
    dir,
    logFile,
  };
  const supervisor = spawn(process.execPath, [SUPERVISOR, JSON.stringify(config)], {
    detached: true,
    stdio: 'ignore',
    env: { ...(opts.env ?? process.env), ...opts.extraEnv?.(dir) },
  });
  supervisor.unref();

  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      supervisor.ref();
      if (supervisor.exitCode === null && supervisor.signalCode === null) {
        supervisor.kill('SIGTERM');
        if (!(await waitForExit(supervisor, 15_000))) {
          const pid = readJson<{ pid: number }>(path.join(dir, 'supervisor.json'))?.pid;
          if (pid) killQuietly(-pid);
          supervisor.kill('SIGKILL');
          await waitForExit(supervisor, 2_000);
        }
      }
      supervisor.unref();
      rmSync(dir, { recursive: true, force: true });
    })());

  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  for (;;) {
    const exit = readJson<{ code?: number; signal?: string; error?: string }>(path.join(dir, 'exit.json'));
    const failure = exit
      ? `exited (${exit.error ?? exit.signal ?? `code ${exit.code}`})`
      : supervisor.exitCode !== null
        ? `supervisor exited with code ${supervisor.exitCode}`
        : Date.now() > deadline
          ? `not ready after ${opts.timeoutMs ?? 60_000} ms`
          : undefined;
    if (failure) {
      const log = tailOf(logFile);
      await stop();
      throw new Error(`${opts.name} (${opts.command}) ${failure}. Last log lines:\n${log}`);
    }
    if (await opts.ready(dir, logFile).catch(() => false)) break;
    await sleep(100);
  }
  const pid = readJson<{ pid: number }>(path.join(dir, 'supervisor.json'))?.pid ?? -1;
  return { pid, dir, logFile, stop };
}

export function killQuietly(pid: number, signal: NodeJS.Signals = 'SIGKILL'): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}
