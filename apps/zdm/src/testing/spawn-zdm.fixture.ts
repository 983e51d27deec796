import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

/** The workspace root, where `node_modules/.bin/node` (Node 24) and tsconfig.base.json live. */
export const WORKSPACE = resolve(__dirname, '../../../..');

/** What a `zdm` child process did. */
export interface ZdmProcess {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON lines. */
  lines: Record<string, unknown>[];
  /** The last JSON line (the result). */
  result: Record<string, unknown>;
  ms: number;
}

/** Options for {@link spawnZdm}. */
export interface SpawnZdmOptions {
  /** Extra environment (e.g. ZDM_FIXTURE, MONGO_URL). */
  env?: Record<string, string>;
  /** Called for each JSON line as it arrives, with the child to signal. */
  onLine?: (line: Record<string, unknown>, kill: (signal: NodeJS.Signals) => void) => void;
}

/** Runs `zdm <args>` as a child process under Node 24 + @swc-node/register, stdout piped. */
export function spawnZdm(args: string[], options: SpawnZdmOptions = {}): Promise<ZdmProcess> {
  const started = performance.now();
  const child = spawn(resolve(WORKSPACE, 'node_modules/.bin/node'), ['-r', '@swc-node/register', 'apps/zdm/src/main.ts', ...args], {
    cwd: WORKSPACE,
    env: { ...process.env, SWC_NODE_PROJECT: 'tsconfig.base.json', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let pending = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    pending += chunk;
    const parts = pending.split('\n');
    pending = parts.pop() ?? '';
    for (const p of parts) if (p.startsWith('{')) options.onLine?.(JSON.parse(p), (s) => child.kill(s));
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((done, fail) => {
    child.on('error', fail);
    child.on('close', (code, signal) => {
      const lines = stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
      done({ code, signal, stdout, stderr, lines, result: lines[lines.length - 1] ?? {}, ms: Math.round(performance.now() - started) });
    });
  });
}
