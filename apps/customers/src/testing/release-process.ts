import { ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { waitFor } from '@zdm/migrations-core/testing';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');

/** What `tools/releases/materialize.mjs --json` prints. */
export interface MaterializedRelease {
  service: string;
  release: string;
  commit: string;
  build: string;
  reads: [number, number];
  /** Libraries taken from a later commit (or the working tree) because the release commit lacked them. */
  overlays: { library: string; path: string; commit: string }[];
  outDir: string;
  cwd: string;
  command: string;
  args: string[];
  env: Record<string, string>;
}

/**
 * Extracts a recorded release from git history into a new temp dir (see deploy/releases). Only with
 * ZDM_RELEASE_WORKTREE_LIBRARIES=1 may a library nobody has committed yet come from the working tree.
 */
export async function materializeRelease(service: string, release: string): Promise<MaterializedRelease & { remove(): void }> {
  const outDir = path.join(mkdtempSync(path.join(tmpdir(), `zdm-${service}-${release}-`)), 'tree');
  const worktree = process.env['ZDM_RELEASE_WORKTREE_LIBRARIES'] === '1' ? ['--worktree-libraries'] : [];
  const script = path.join(ROOT, 'tools', 'releases', 'materialize.mjs');
  const { stdout } = await promisify(execFile)(process.execPath, [script, service, release, outDir, '--json', ...worktree], { cwd: ROOT });
  const result = JSON.parse(stdout) as MaterializedRelease;
  return { ...result, remove: () => rmSync(path.dirname(outDir), { recursive: true, force: true }) };
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A service process started from a materialized release. */
export interface ReleaseProcess {
  child: ChildProcess;
  /** `http://127.0.0.1:<port>` */
  url: string;
  output(): string;
  /** Resolves with the exit code (or signal) once the process is gone. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `release` as its own process with `env` on a free port and waits until it answers. */
export async function startRelease(release: MaterializedRelease, env: Record<string, string>, timeoutMs = 90_000): Promise<ReleaseProcess> {
  const port = await freePort();
  const child = spawn(release.command, release.args, {
    cwd: release.cwd,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'warn', ...release.env, ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const url = `http://127.0.0.1:${port}`;
  const answering = waitFor(`${release.service} ${release.release} to answer on ${url}`, async () => (await fetch(`${url}/health/live`).catch(() => null))?.ok, timeoutMs, 200);
  const died = exited.then(({ code, signal }) => {
    throw new Error(`${release.service} ${release.release} exited (${signal ?? code}) before answering:\n${output}`);
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

/** Stops a started release: SIGTERM, then SIGKILL after `graceMs`; resolves once it is gone. */
export async function stopRelease(proc: ReleaseProcess | undefined, graceMs = 10_000): Promise<void> {
  if (!proc || proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  proc.child.kill('SIGTERM');
  const killed = setTimeout(() => proc.child.kill('SIGKILL'), graceMs);
  await proc.exited;
  clearTimeout(killed);
}
