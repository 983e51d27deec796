// `npm run contract`: every service's OpenAPI document against the service itself, with
// schemathesis (installed by tools/setup.sh). Starts the backing services, the auth hub (a service
// that guards its writes verifies its tokens) and each service, runs schemathesis on its /docs-json
// with an access token of a user registered for the run, prints examples, seed and failures, and
// stops everything.
// Options: --max-examples N (per operation, default 100), --seed S (default random), --workers N (2).
import { loginAtHub, startAuthHubProcess } from '@zdm/auth-guard/testing';
import { startServices, stopServiceProcess, type ServiceProcess, type Services } from '@zdm/dev-services';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

/** The schemathesis that tools/setup.sh installs. */
const SCHEMATHESIS_VERSION = '4.32.5';
const CHECKS = [
  'not_a_server_error',
  'status_code_conformance',
  'content_type_conformance',
  'response_schema_conformance',
  'negative_data_rejection',
  'positive_data_acceptance',
  // Operations that declare the bearer scheme must refuse a request without it (or with a wrong one).
  'ignored_auth',
];

/** A service of this repository: its entry point and the environment it needs from the backing services. */
interface ServiceUnderTest {
  name: string;
  entry: string;
  needs: { mongo?: boolean; redis?: boolean };
  /** Given the backing services and the auth hub's JWKS URL. */
  env: (services: Services, jwksUrl: string) => Record<string, string>;
}

const SERVICES: ServiceUnderTest[] = [
  {
    name: 'customers',
    entry: 'apps/customers/src/main.ts',
    needs: { mongo: true },
    env: (services, jwksUrl) => ({ MONGO_URL: services.mongo?.url ?? '', MONGO_DB: `contract_${process.pid}`, AUTH_JWKS_URL: jwksUrl }),
  },
];

const ROOT = path.resolve(__dirname, '../../..');

function schemathesisBin(): string {
  const bin =
    process.env['SCHEMATHESIS_BIN'] ??
    path.join(process.env['XDG_CACHE_HOME'] ?? path.join(homedir(), '.cache'), 'zdm', `schemathesis-${SCHEMATHESIS_VERSION}`, 'bin', 'schemathesis');
  if (!existsSync(bin)) throw new Error(`schemathesis ${SCHEMATHESIS_VERSION} not found at ${bin}: run bash tools/setup.sh`);
  return bin;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function waitReady(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`the service exited with ${child.exitCode} before it was ready`);
    const ok = await fetch(`${url}/health/ready`).then((r) => r.ok, () => false);
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${url}/health/ready was not 200 within ${timeoutMs} ms`);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

/** Runs schemathesis, echoing its output; resolves its exit code and the generated test cases it reports. */
function runSchemathesis(args: string[]): Promise<{ code: number; cases: number | undefined }> {
  return new Promise((resolve, reject) => {
    const child = spawn(schemathesisBin(), args, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NO_COLOR: '1' } });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      process.stdout.write(chunk);
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      const cases = /(\d+) generated/.exec(output)?.[1];
      resolve({ code: code ?? 1, cases: cases === undefined ? undefined : Number(cases) });
    });
  });
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { 'max-examples': { type: 'string', default: '100' }, seed: { type: 'string' }, workers: { type: 'string', default: '2' } },
  });
  const seed = values.seed ?? String(Math.floor(Math.random() * 2 ** 31));
  // The auth hub keeps its users in MongoDB and its sessions in Redis.
  const services = await startServices({ mongo: true, redis: true });
  const results: string[] = [];
  let failed = false;
  let hub: ServiceProcess | undefined;
  try {
    const stores = { mongo: services.mongo as { url: string }, mongoDbName: `contract_${process.pid}`, redis: services.redis as { url: string }, redisPrefix: `contract:${process.pid}:` };
    // A token that outlives the run, so that no request is refused for its age.
    hub = await startAuthHubProcess('auth-hub', stores, { ACCESS_TOKEN_TTL_SECONDS: '3600', LOG_LEVEL: 'error' });
    const token = await loginAtHub(hub.url, `contract-${process.pid}@example.com`, 'schemathesis passphrase');
    const jwksUrl = `${hub.url}/.well-known/jwks.json`;
    for (const service of SERVICES) {
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      const child = spawn(process.execPath, [path.join(ROOT, 'tools/scripts/run-ts.mjs'), service.entry], {
        cwd: ROOT,
        env: { ...process.env, ...service.env(services, jwksUrl), PORT: String(port), LOG_LEVEL: 'error' },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      try {
        await waitReady(url, child, 90_000);
        const started = Date.now();
        // Every request carries the token (reads ignore it); ignored_auth sends the guarded ones without it too.
        const args = ['run', `${url}/docs-json`, '--checks', CHECKS.join(','), '--max-examples', values['max-examples'], '--seed', seed, '--workers', values.workers, '--header', `Authorization: Bearer ${token}`];
        const { code, cases } = await runSchemathesis(args);
        failed ||= code !== 0;
        results.push(`${service.name}: ${cases ?? '?'} examples, seed ${seed}, ${code === 0 ? '0 failures' : `FAILED (schemathesis exit ${code})`}, ${((Date.now() - started) / 1000).toFixed(1)} s`);
      } finally {
        await stopChild(child);
      }
    }
  } finally {
    if (hub) await stopServiceProcess(hub);
    await services.stop();
  }
  console.log(`\ncontract (schemathesis ${SCHEMATHESIS_VERSION}; checks ${CHECKS.join(', ')}):`);
  for (const line of results) console.log(`  ${line}`);
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`contract: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
