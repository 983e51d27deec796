import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const SCRIPT = path.resolve(__dirname, '..', '..', '..', '..', 'tools', 'releases', 'materialize.mjs');

/** A throwaway repository: a service importing a library that is only committed after the release. */
function repoWithLateLibrary(dir: string) {
  const git = (...args: string[]) =>
    execFileSync('git', args, { cwd: dir, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' } }).trim();
  const write = (file: string, text: string) => {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), text);
  };
  git('init', '-q');
  write('tsconfig.base.json', JSON.stringify({ compilerOptions: { paths: { '@zdm/lib-a': ['libs/a/src/index.ts'] } } }));
  write('apps/svc/src/main.ts', "import { a } from '@zdm/lib-a';\nconsole.log(a);\n");
  write('libs/a/src/index.ts', 'export {};\n');
  git('add', '.');
  git('commit', '-q', '-m', 'release v1 (lib-a still uncommitted work)');
  const release = git('rev-parse', 'HEAD');
  write('deploy/releases/svc.json', JSON.stringify({ service: 'svc', releases: { v1: { commit: release, reads: [1, 1] } } }));
  return { git, write, release };
}

/** Runs materialize.mjs in `repo` through its exported function (it is an ES module). */
function materialize(repo: string, outDir: string): { ok: true; result: Record<string, unknown> } | { ok: false; message: string } {
  const code = `import { materialize } from ${JSON.stringify(SCRIPT)};
    try { console.log(JSON.stringify({ ok: true, result: await materialize('svc', 'v1', ${JSON.stringify(outDir)}, { repo: ${JSON.stringify(repo)} }) })); }
    catch (err) { console.log(JSON.stringify({ ok: false, message: err.message })); }`;
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' }));
}

describe('materialize.mjs', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), 'zdm-materialize-repo-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a release whose imported library no commit provides, naming it', () => {
    const repo = path.join(dir, 'repo');
    mkdirSync(repo);
    repoWithLateLibrary(repo);
    const outcome = materialize(repo, path.join(dir, 'out'));
    expect(outcome).toEqual({ ok: false, message: expect.stringContaining('no later commit provides them:\n  - @zdm/lib-a (libs/a/src/index.ts)') });
  });

  it('takes such a library from its first later commit, and reports it as an overlay', () => {
    const repo = path.join(dir, 'repo');
    mkdirSync(repo);
    const { git, write, release } = repoWithLateLibrary(repo);
    write('libs/a/src/index.ts', 'export const a = 1;\n');
    git('commit', '-q', '-am', 'lib-a');
    const first = git('rev-parse', 'HEAD');
    write('libs/a/src/index.ts', 'export const a = 2;\n');
    git('commit', '-q', '-am', 'lib-a changes later');

    const outcome = materialize(repo, path.join(dir, 'out'));
    expect(outcome).toMatchObject({ ok: true, result: { commit: release, overlays: [{ library: '@zdm/lib-a', path: 'libs/a', commit: first }] } });
    expect(readFileSync(path.join(dir, 'out', 'libs/a/src/index.ts'), 'utf8')).toBe('export const a = 1;\n');
    expect(readFileSync(path.join(dir, 'out', 'apps/svc/src/main.ts'), 'utf8')).toContain("from '@zdm/lib-a'");
  });
});
