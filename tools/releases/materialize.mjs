#!/usr/bin/env node
// Materializes a recorded release of a service from git history, so an older build (blue) can run
// next to the current one (green) exactly as it was committed:
//
//   node tools/releases/materialize.mjs <service> <release> <outDir> [--json]
//
// It reads deploy/releases/<service>.json, extracts the release's commit with `git archive` into
// outDir, links the workspace's node_modules (dependencies are the lockfile's; the code is the
// release's), checks that every @zdm/* library the service imports exists in that tree (one that was
// still uncommitted work when the release was committed is taken from its first later commit, and
// reported; --worktree-libraries lets a library nobody committed yet come from the working tree),
// and prints how to start it. With --json it prints
// { service, release, commit, build, reads, requiredEnv, overlays, outDir, cwd, command, args, env }
// (requiredEnv: the manifest's `env`, the variables the service will not start without).
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A problem the user can fix; printed without a stack trace. */
export class ReleaseError extends Error {}

/** The manifest of a service: deploy/releases/<service>.json. */
export function readManifest(service, repo = root) {
  const file = path.join(repo, 'deploy', 'releases', `${service}.json`);
  if (!/^[a-z0-9-]+$/.test(service ?? '')) throw new ReleaseError(`service must be lower-case letters, digits or -, got ${JSON.stringify(service)}`);
  if (!existsSync(file)) throw new ReleaseError(`no release manifest for "${service}": ${file} does not exist`);
  const manifest = JSON.parse(readFileSync(file, 'utf8'));
  if (manifest.service !== service || !manifest.releases || typeof manifest.releases !== 'object') {
    throw new ReleaseError(`${file} must hold { "service": "${service}", "releases": { ... } }`);
  }
  return manifest;
}

function git(args, repo) {
  try {
    return execFileSync('git', args, { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch (err) {
    throw new ReleaseError(`git ${args.join(' ')} failed: ${String(err.stderr || err.message).trim()}`);
  }
}

/** The full sha of `ref`, or a ReleaseError saying why it is not in this clone. */
export function resolveCommit(ref, repo = root) {
  try {
    return execFileSync('git', ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], { cwd: repo, encoding: 'utf8' }).trim();
  } catch {
    const shallow = git(['rev-parse', '--is-shallow-repository'], repo) === 'true';
    throw new ReleaseError(
      `commit ${ref} is not in this clone${shallow ? ' (it is shallow: run `git fetch --unshallow`)' : ''}; the release manifest points at history this checkout lacks`,
    );
  }
}

/** Extracts the tree of `commit` (or only `paths` of it) into `outDir`. */
async function extract(commit, outDir, repo, paths = []) {
  mkdirSync(outDir, { recursive: true });
  await new Promise((resolve, reject) => {
    const archive = spawn('git', ['archive', '--format=tar', commit, ...paths], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
    const tar = spawn('tar', ['-x', '-C', outDir], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    archive.stderr.on('data', (d) => (stderr += d));
    tar.stderr.on('data', (d) => (stderr += d));
    archive.stdout.pipe(tar.stdin);
    let pending = 2;
    const done = (code) => {
      if (code !== 0) reject(new ReleaseError(`git archive ${commit} | tar -x failed: ${stderr.trim()}`));
      else if (--pending === 0) resolve();
    };
    archive.on('close', done);
    tar.on('close', done);
  });
}

function sourceFiles(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return name === 'node_modules' ? [] : sourceFiles(full);
    return /\.ts$/.test(name) && !/\.(int-)?spec\.ts$/.test(name) ? [full] : [];
  });
}

const isEmptyEntry = (text) => {
  const body = text.replace(/\/\/.*$/gm, '').trim();
  return !body || body === 'export {};';
};

/**
 * The @zdm/* libraries the service's code imports (transitively) that the extracted tree cannot
 * provide: alias missing from tsconfig.base.json, or entry file missing or empty (`export {};`).
 * Each is `{ alias, entry }` (entry: the aliased file, relative to the tree; null without an alias).
 */
export function missingLibraries(outDir, service) {
  const paths = JSON.parse(readFileSync(path.join(outDir, 'tsconfig.base.json'), 'utf8')).compilerOptions?.paths ?? {};
  const missing = [];
  const seen = new Set();
  const queue = [path.join(outDir, 'apps', service, 'src'), path.join(outDir, 'libs', service)];
  while (queue.length) {
    for (const file of sourceFiles(queue.shift())) {
      for (const [, alias] of readFileSync(file, 'utf8').matchAll(/from '(@zdm\/[a-z0-9-]+)'/g)) {
        if (seen.has(alias)) continue;
        seen.add(alias);
        const relative = paths[alias]?.[0] ?? null;
        const entry = relative && path.join(outDir, relative);
        if (!entry || !existsSync(entry) || isEmptyEntry(readFileSync(entry, 'utf8'))) missing.push({ alias, entry: relative });
        else queue.push(path.dirname(entry));
      }
    }
  }
  return missing;
}

/**
 * Extracts `release` of `service` into `outDir` and returns how to start it. The build name
 * (`BUILD`, shown in heartbeats) is the manifest's `build`, else `<service>-<release>`.
 */
export async function materialize(service, release, outDir, { repo = root, worktreeLibraries = false } = {}) {
  const manifest = readManifest(service, repo);
  const entry = manifest.releases[release];
  if (!entry) throw new ReleaseError(`${service} has no release "${release}"; known: ${Object.keys(manifest.releases).join(', ')}`);
  if (!entry.commit) throw new ReleaseError(`${service} release ${release} has no commit`);
  const commit = resolveCommit(entry.commit, repo);
  const out = path.resolve(outDir);
  if (existsSync(out) && readdirSync(out).length > 0) throw new ReleaseError(`${out} is not empty; give a new directory`);
  await extract(commit, out, repo);
  symlinkSync(path.join(repo, 'node_modules'), path.join(out, 'node_modules'), 'dir');
  const main = manifest.main ?? `apps/${service}/src/main.ts`;
  if (!existsSync(path.join(out, main))) throw new ReleaseError(`commit ${commit.slice(0, 12)} has no ${main}; is it a release of ${service}?`);
  const overlays = await overlayLaterLibraries(out, service, commit, repo, worktreeLibraries);
  const build = entry.build ?? `${service}-${release}`;
  const result = {
    service,
    release,
    commit,
    build,
    reads: entry.reads,
    requiredEnv: manifest.env ?? ['MONGO_URL'],
    overlays,
    outDir: out,
    cwd: out,
    command: path.join(repo, 'node_modules', '.bin', 'node'),
    args: ['-r', '@swc-node/register', main],
    env: { SWC_NODE_PROJECT: path.join(out, 'tsconfig.base.json'), BUILD: build },
  };
  writeFileSync(path.join(out, '.release.json'), JSON.stringify({ ...result, materializedAt: new Date().toISOString() }, null, 2) + '\n');
  return result;
}

/**
 * A release commit may import a workspace library that was still uncommitted work when the release
 * was committed (several engineers commit separately). Such a library is taken from the first later
 * commit that has it, and reported as an overlay; a library no commit provides is an error.
 */
async function overlayLaterLibraries(out, service, commit, repo, worktreeLibraries) {
  const overlays = [];
  for (;;) {
    const missing = missingLibraries(out, service);
    if (missing.length === 0) return overlays;
    const unresolved = [];
    for (const { alias, entry } of missing) {
      const projectDir = entry?.includes('/src/') ? entry.slice(0, entry.indexOf('/src/')) : null;
      const later = projectDir ? firstCommitProviding(entry, projectDir, commit, repo) : null;
      const fromWorktree = !later && worktreeLibraries && projectDir && existsSync(path.join(repo, entry));
      if ((!later && !fromWorktree) || overlays.some((o) => o.path === projectDir)) {
        unresolved.push(`${alias} (${entry ?? 'no path alias'})`);
        continue;
      }
      rmSync(path.join(out, projectDir), { recursive: true, force: true });
      if (later) await extract(later, out, repo, [projectDir]);
      else cpSync(path.join(repo, projectDir), path.join(out, projectDir), { recursive: true });
      overlays.push({ library: alias, path: projectDir, commit: later ?? 'worktree' });
    }
    if (unresolved.length) {
      const hint = worktreeLibraries ? '' : '\n(during development, --worktree-libraries takes them from the working tree)';
      throw new ReleaseError(`commit ${commit.slice(0, 12)} lacks libraries its code imports, and no later commit provides them:\n  - ${unresolved.join('\n  - ')}${hint}`);
    }
  }
}

/** The first commit after `commit` (towards HEAD) whose `entry` is not empty. */
function firstCommitProviding(entry, projectDir, commit, repo) {
  const candidates = git(['rev-list', '--reverse', '--ancestry-path', `${commit}..HEAD`, '--', projectDir], repo).split('\n').filter(Boolean);
  for (const candidate of candidates) {
    try {
      const text = execFileSync('git', ['show', `${candidate}:${entry}`], { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      if (!isEmptyEntry(text)) return candidate;
    } catch {
      // not in this commit
    }
  }
  return null;
}

function usage() {
  return 'usage: node tools/releases/materialize.mjs <service> <release> <outDir> [--json] [--worktree-libraries]';
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const args = process.argv.slice(2);
  const json = args.includes('--json');
  const worktreeLibraries = args.includes('--worktree-libraries');
  const [service, release, outDir] = args.filter((a) => !a.startsWith('--'));
  if (!service || !release || !outDir) {
    console.error(usage());
    process.exit(2);
  }
  try {
    const result = await materialize(service, release, outDir, { worktreeLibraries });
    if (json) process.stdout.write(JSON.stringify(result) + '\n');
    else {
      const env = Object.entries(result.env).map(([k, v]) => `${k}=${v}`).join(' ');
      process.stdout.write(
        `${service} ${release} (${result.commit.slice(0, 12)}, reads v${result.reads?.join('..v') ?? '?'}) is in ${result.outDir}\n` +
          result.overlays.map((o) => `note: ${o.library} was not committed yet at ${result.commit.slice(0, 12)}; taken from ${o.commit === 'worktree' ? 'the working tree' : `its first commit ${o.commit.slice(0, 12)}`}\n`).join('') +
          `start it with ${result.requiredEnv.join(', ')} (and optionally UNLEASH_URL, UNLEASH_CLIENT_TOKEN, PORT) set:\n` +
          `  cd ${result.cwd} && ${env} ${result.command} ${result.args.join(' ')}\n`,
      );
    }
  } catch (err) {
    console.error(err instanceof ReleaseError ? `materialize: ${err.message}` : err);
    process.exit(1);
  }
}
