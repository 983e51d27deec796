import { execFile } from 'node:child_process';
import { symlinkSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { sleep, tail } from './os.util';
import { ManagedProcess, ProcessSupervisor } from './process-supervisor';
import { ROOT } from './services/demo.service';

const run = promisify(execFile);

export { ROOT } from './services/demo.service';

/** Blue runs the previous release, green the build in this checkout. */
export type Color = 'blue' | 'green';

/** How to start one build of a service. */
export interface LaunchRecipe {
  /** Build name reported in heartbeats. */
  build: string;
  command: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  /** One line for the logs: which code this is. */
  description: string;
}

/**
 * The previous release, extracted from git history by tools/releases/materialize.mjs (the release
 * manifest deploy/releases/<service>.json says which commit).
 */
export async function materializeRelease(service: string, release: string, outDir: string): Promise<LaunchRecipe> {
  let stdout: string;
  try {
    // A library the release imports that was committed only later (or not yet: --worktree-libraries)
    // is overlaid by the script, which says so in `overlays`.
    const script = path.join(ROOT, 'tools', 'releases', 'materialize.mjs');
    ({ stdout } = await run(process.execPath, [script, service, release, outDir, '--json', '--worktree-libraries'], { cwd: ROOT }));
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr?.trim();
    throw new Error(`cannot materialize ${service} ${release}: ${stderr || String(err)}`);
  }
  const r = JSON.parse(stdout.trim().split('\n').at(-1) as string) as {
    build: string;
    commit: string;
    command: string;
    args: string[];
    cwd: string;
    env: Record<string, string>;
    overlays?: { library: string; commit: string }[];
  };
  const overlays = (r.overlays ?? []).map((o) => `${o.library} from ${o.commit === 'worktree' ? 'the working tree' : o.commit.slice(0, 12)}`);
  const description = `${service} ${release} = commit ${r.commit.slice(0, 12)}${overlays.length ? ` (libraries committed later: ${overlays.join(', ')})` : ''}`;
  return { build: r.build, command: r.command, args: r.args, cwd: r.cwd, env: r.env, description };
}

/** The build in this checkout (HEAD plus uncommitted changes), named after `git describe`. */
export async function workingTreeRecipe(service: string): Promise<LaunchRecipe> {
  let describe = 'working-tree';
  try {
    describe = (await run('git', ['describe', '--always', '--dirty'], { cwd: ROOT })).stdout.trim();
  } catch {
    // not a git checkout: keep the generic name
  }
  const build = `${service}-${describe}`;
  return {
    build,
    command: process.execPath,
    args: ['-r', '@swc-node/register', path.join('apps', service, 'src', 'main.ts')],
    cwd: ROOT,
    env: { SWC_NODE_PROJECT: path.join(ROOT, 'tsconfig.base.json'), BUILD: build },
    description: `${service} from this checkout (${describe})`,
  };
}

/**
 * Compiles entry files of a checkout (this one, or a release materialized from git) once to plain
 * CommonJS in `outDir`, with tools/containers/compile.mjs as the images are built, and links the
 * checkout's node_modules beside them. A process then starts without compiling TypeScript, which
 * otherwise takes a core for seconds per instance and per `zdm` command.
 */
export async function compileBuild(checkout: string, entries: readonly string[], outDir: string): Promise<void> {
  try {
    await run(process.execPath, [path.join(ROOT, 'tools', 'containers', 'compile.mjs'), outDir, ...entries], { cwd: checkout });
  } catch (err) {
    throw new Error(`cannot compile ${entries.join(', ')} of ${checkout}: ${(err as { stderr?: string }).stderr?.trim() || String(err)}`);
  }
  symlinkSync(path.join(checkout, 'node_modules'), path.join(outDir, 'node_modules'));
}

/** A service's recipe started from its build compiled once (see {@link compileBuild}) instead of TypeScript compiled at every start. */
export async function compiledRecipe(recipe: LaunchRecipe, service: string, outDir: string): Promise<LaunchRecipe> {
  await compileBuild(recipe.cwd, [path.join('apps', service, 'src', 'main.ts')], outDir);
  return { ...recipe, command: process.execPath, args: [path.join(outDir, 'apps', service, 'src', 'main.js')], cwd: outDir, description: `${recipe.description}, compiled to JavaScript` };
}

/** What one readiness probe saw. */
export interface Readiness {
  ready: boolean;
  /** The instance said it is shutting down (it will not come back). */
  shuttingDown: boolean;
  detail: string;
}

/** One running instance of a service. */
export class ServiceInstance {
  constructor(
    readonly service: string,
    readonly name: string,
    readonly color: Color,
    readonly build: string,
    readonly port: number,
    readonly proc: ManagedProcess,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.proc.running;
  }

  /** One GET /health/ready. */
  async readiness(timeoutMs = 1_000): Promise<Readiness> {
    try {
      const res = await fetch(`${this.url}/health/ready`, { signal: AbortSignal.timeout(timeoutMs) });
      const body = (await res.json().catch(() => ({}))) as { status?: string };
      return { ready: res.status === 200, shuttingDown: body.status === 'shutting_down', detail: `${res.status} ${body.status ?? ''}`.trim() };
    } catch (err) {
      return { ready: false, shuttingDown: false, detail: (err as Error).message };
    }
  }

  /** Resolves once /health/ready answers 200; rejects if the process exits or time runs out. */
  async waitReady(timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    let last = '';
    for (;;) {
      if (!this.running) throw new Error(`${this.name} exited before it was ready:\n${tail(this.proc.logFile)}`);
      const probe = await this.readiness();
      if (probe.ready) return;
      last = probe.detail;
      if (performance.now() > deadline) throw new Error(`${this.name} not ready after ${timeoutMs} ms (${last}):\n${tail(this.proc.logFile)}`);
      await sleep(200);
    }
  }

  /** SIGTERM, then waits for the graceful shutdown (readiness 503, drain, in-flight finished, exit). */
  async stop(timeoutMs = 30_000): Promise<{ code: number | null; signal: string | null; ms: number }> {
    const started = performance.now();
    const exit = await this.proc.stop('SIGTERM', timeoutMs);
    return { ...exit, ms: Math.round(performance.now() - started) };
  }
}

/** Options of {@link ServiceFleet}. */
export interface FleetOptions {
  /** The service every instance of this fleet runs. */
  service: string;
  supervisor: ProcessSupervisor;
  /** Environment every instance gets (service URLs, timings), on top of PATH and HOME. */
  env: Record<string, string>;
}

/** Starts instances of one service from a recipe. */
export class ServiceFleet {
  constructor(private readonly options: FleetOptions) {}

  start(recipe: LaunchRecipe, color: Color, name: string, port: number): ServiceInstance {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env['PATH'],
      HOME: process.env['HOME'],
      ...this.options.env,
      ...recipe.env,
      PORT: String(port),
      INSTANCE_ID: name,
    };
    const proc = this.options.supervisor.start(name, recipe.command, recipe.args, { env, cwd: recipe.cwd });
    return new ServiceInstance(this.options.service, name, color, recipe.build, port, proc);
  }
}
