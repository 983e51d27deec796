import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { startServiceProcess, stopServiceProcess, type ServiceProcess } from './service-process';

/** The repository: libs/shared/dev-services/src/lib is five levels below it. */
const ROOT = path.resolve(__dirname, '..', '..', '..', '..', '..');

/** What `tools/releases/materialize.mjs --json` prints. */
export interface MaterializedRelease {
  service: string;
  release: string;
  commit: string;
  build: string;
  reads: [number, number];
  /** The variables the service will not start without (the manifest's `env`). */
  requiredEnv: string[];
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

/** A service process started from a materialized release. */
export type ReleaseProcess = ServiceProcess;

/** Starts `release` as its own process with `env` on a free port and waits until it answers. */
export function startRelease(release: MaterializedRelease, env: Record<string, string>, timeoutMs = 90_000): Promise<ReleaseProcess> {
  return startServiceProcess({ name: `${release.service} ${release.release}`, command: release.command, args: release.args, cwd: release.cwd, env: { ...release.env, ...env } }, timeoutMs);
}

/** Stops a started release: SIGTERM, then SIGKILL after `graceMs`; resolves once it is gone. */
export const stopRelease = stopServiceProcess;
