import { type ChildProcess, spawn } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';

const WORKSPACE_ROOT = path.resolve(__dirname, '../../../../..');
const FIXTURE_MAIN = path.join(__dirname, 'fixture.main.ts');

/** The fixture service running in a child process, as a service runs in production. */
export interface FixtureProcess {
  child: ChildProcess;
  /** Resolves with the port once the service logs that it listens (rejects if it exits first). */
  listening: Promise<number>;
  /** Resolves when the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stdout(): string;
  stderr(): string;
  /** The JSON log lines written so far. */
  logs(): Array<Record<string, unknown>>;
}

/** Starts `fixture.main.ts` with `env` over the current environment (`undefined` unsets a variable). */
export function startFixtureProcess(env: Record<string, string | undefined>): FixtureProcess {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, SWC_NODE_PROJECT: 'tsconfig.base.json', PORT: '0' };
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) delete childEnv[key];
    else childEnv[key] = value;
  }
  const child = spawn(process.execPath, ['-r', '@swc-node/register', FIXTURE_MAIN], {
    cwd: WORKSPACE_ROOT,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const logs = () =>
    stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  const listening = new Promise<number>((resolve, reject) => {
    const poll = setInterval(() => {
      const line = logs().find((entry) => typeof entry['msg'] === 'string' && entry['msg'].startsWith('Listening'));
      if (line) {
        clearInterval(poll);
        resolve(Number(line['port']));
      }
    }, 25);
    void exited.then(({ code }) => {
      clearInterval(poll);
      reject(new Error(`fixture exited with ${code} before listening:\n${stderr}`));
    });
  });
  listening.catch(() => undefined);
  return { child, listening, exited, stdout: () => stdout, stderr: () => stderr, logs };
}

/** A response read to the end. */
export interface SimpleResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** GET over `agent` (a fresh connection by default). */
export function httpGet(url: string, agent: http.Agent | false = false): Promise<SimpleResponse> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      })
      .on('error', reject);
  });
}
