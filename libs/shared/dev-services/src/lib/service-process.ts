import { ChildProcess, spawn } from 'node:child_process';
import { freePort } from './net';
import { waitFor } from './wait-for';

/** How to start a service as its own process. */
export interface ServiceProcessSpec {
  /** Name in error messages, e.g. `customers v1`. */
  name: string;
  command: string;
  args: string[];
  cwd: string;
  /** Environment on top of PATH, HOME and `LOG_LEVEL=warn`; `PORT` is set to a free port. */
  env: Record<string, string>;
}

/** A service process that answered its liveness probe. */
export interface ServiceProcess {
  child: ChildProcess;
  /** `http://127.0.0.1:<port>` */
  url: string;
  output(): string;
  /** Resolves with the exit code (or signal) once the process is gone. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts a service as its own process on a free port and waits until `/health/live` answers; fails
 * with the process's output when it exits first or does not answer within `timeoutMs`.
 */
export async function startServiceProcess(spec: ServiceProcessSpec, timeoutMs = 90_000): Promise<ServiceProcess> {
  const port = await freePort();
  const child = spawn(spec.command, spec.args, {
    cwd: spec.cwd,
    env: { PATH: process.env['PATH'], HOME: process.env['HOME'], LOG_LEVEL: 'warn', ...spec.env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const url = `http://127.0.0.1:${port}`;
  const answering = waitFor(`${spec.name} to answer on ${url}`, async () => (await fetch(`${url}/health/live`).catch(() => null))?.ok, timeoutMs, 200);
  const died = exited.then(({ code, signal }) => {
    throw new Error(`${spec.name} exited (${signal ?? code}) before answering:\n${output}`);
  });
  // Whichever loses the race settles later; nobody waits for it then.
  answering.catch(() => undefined);
  died.catch(() => undefined);
  try {
    await Promise.race([answering, died]);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return { child, url, output: () => output, exited };
}

/** Stops a started service process: SIGTERM, then SIGKILL after `graceMs`; resolves once it is gone. */
export async function stopServiceProcess(proc: ServiceProcess | undefined, graceMs = 10_000): Promise<void> {
  if (!proc || proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  proc.child.kill('SIGTERM');
  const killed = setTimeout(() => proc.child.kill('SIGKILL'), graceMs);
  await proc.exited;
  clearTimeout(killed);
}
