// `npm test [-- <nx args, e.g. --projects=x>]`
// Starts MongoDB, Redis and Unleash once (through @zdm/dev-services), exports
// MONGO_URL / REDIS_URL / UNLEASH_* to the environment, runs
// `nx run-many -t test --parallel=1 <args>`, stops the services and exits with the
// tests' exit code. Under CI=true a service that cannot start is a hard failure;
// locally the run goes on and suites needing that service start it or fail themselves.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadTs, root } from './run-ts.mjs';

const ci = process.env.CI === 'true';
const say = (line) => process.stderr.write(`[test] ${line}\n`);

const dev = loadTs('libs/shared/dev-services/src/index.ts');
const startedAt = Date.now();
let services;
try {
  services = await dev.startServices({}, { allowPartial: !ci });
} catch (err) {
  say(`a backing service could not start, and CI=true makes that fatal:\n${err instanceof Error ? err.message : err}`);
  process.exit(1);
}
for (const [name, err] of Object.entries(services.failures)) {
  say(`WARNING: ${name} unavailable; suites that need it will try to start it themselves or fail:\n${err.message}`);
}
say(`backing services (${((Date.now() - startedAt) / 1000).toFixed(1)} s): ${dev.describeServices(services) || 'none'}`);

const env = {
  ...process.env,
  ...dev.serviceEnv(services),
  PATH: [path.join(root, 'node_modules', '.bin'), process.env.PATH].join(path.delimiter),
};
if (process.stdout.isTTY && !('FORCE_COLOR' in process.env)) env.FORCE_COLOR = '1';

// Jest prints "Tests: 1 failed, 2 skipped, 30 passed, 33 total" per project; add them up.
const totals = { passed: 0, failed: 0, skipped: 0 };
let sawSummary = false;
const scan = (chunk) => {
  // eslint-disable-next-line no-control-regex
  for (const line of chunk.toString().replace(/\x1b\[[0-9;]*m/g, '').split('\n')) {
    const m = /^\s*Tests:\s+(.*\d+ total)/.exec(line);
    if (!m) continue;
    sawSummary = true;
    for (const key of Object.keys(totals)) totals[key] += Number(new RegExp(`(\\d+) ${key}`).exec(m[1])?.[1] ?? 0);
  }
};
const pipeLines = (from, to) => {
  let pending = '';
  from.on('data', (chunk) => {
    to.write(chunk);
    const text = pending + chunk.toString();
    const cut = text.lastIndexOf('\n') + 1;
    scan(text.slice(0, cut));
    pending = text.slice(cut);
  });
  from.on('end', () => scan(pending));
};

const nxDir = path.join(root, 'node_modules', 'nx');
const nx = path.join(nxDir, JSON.parse(readFileSync(path.join(nxDir, 'package.json'), 'utf8')).bin.nx);
const extra = process.argv.slice(2);
// Show every task's output (not only failures), so the log says which servers suites used.
const style = extra.some((a) => /^--output-?style/i.test(a)) ? [] : ['--output-style=static'];
const args = ['run-many', '-t', 'test', '--parallel=1', ...style, ...extra];
say(`nx ${args.join(' ')}`);
// Own process group, so that signals and the watchdog reach nx and every test process under it.
const child = spawn(process.execPath, [nx, ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
const signalTests = (signal) => {
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
};
pipeLines(child.stdout, process.stdout);
pipeLines(child.stderr, process.stderr);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    say(`${signal}: stopping tests`);
    signalTests(signal);
  });
}
// A hung test run (e.g. an open handle keeping Jest alive) must not eat the CI budget.
// CI has a 20-minute budget for the whole run; locally a slower machine gets more room.
const limitMinutes = Number(process.env.ZDM_TEST_TIMEOUT_MINUTES ?? (ci ? 16 : 30));
let timedOut = false;
const watchdog = setTimeout(() => {
  timedOut = true;
  say(`tests still running after ${limitMinutes} min (ZDM_TEST_TIMEOUT_MINUTES): stopping them`);
  signalTests('SIGTERM');
  setTimeout(() => signalTests('SIGKILL'), 10_000).unref();
}, limitMinutes * 60_000);
const exitCode = await new Promise((resolve) => {
  child.on('error', (err) => {
    say(`could not run nx: ${err.message}`);
    resolve(1);
  });
  child.on('exit', (code, signal) => {
    // Let the pipes drain, but do not wait for a stray descendant that still holds them.
    const done = () => resolve(code ?? (signal ? 1 : 0));
    child.on('close', done);
    setTimeout(done, 2000).unref();
  });
});
clearTimeout(watchdog);
const code = timedOut && exitCode === 0 ? 1 : exitCode;

await services.stop();
say(`backing services stopped; nx exited with ${code}`);
if (sawSummary) process.stdout.write(`test: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped\n`);
process.exit(code);
