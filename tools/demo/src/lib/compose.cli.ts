import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Options of {@link ComposeCli}. */
export interface ComposeCliOptions {
  /** The compose files, in order (absolute paths). */
  files: string[];
  /** Folder that relative paths in the files (and .env) are resolved against. */
  projectDirectory: string;
  /** Compose project name. */
  project: string;
  /** Variables for the compose files (secrets, ports, image names), on top of the process's. */
  env: NodeJS.ProcessEnv;
}

/**
 * `docker compose` (and `docker`) against one stack, as an operator types them. The engine is
 * whatever `docker` talks to (DOCKER_HOST: a Docker engine, or podman's Docker API).
 */
export class ComposeCli {
  constructor(readonly options: ComposeCliOptions) {}

  /** The environment every command gets, also for `docker compose run` started elsewhere. */
  get env(): NodeJS.ProcessEnv {
    return { ...process.env, ...this.options.env, COMPOSE_FILE: this.options.files.join(':'), COMPOSE_PROJECT_NAME: this.options.project };
  }

  /** `docker compose <args>` prefixed with the project directory, for spawning. */
  composeArgs(args: readonly string[]): string[] {
    return ['compose', '--project-directory', this.options.projectDirectory, ...args];
  }

  /** Runs `docker compose <args>` to the end; rejects with its stderr unless it exits 0. */
  async compose(args: readonly string[], timeoutMs = 300_000): Promise<string> {
    return this.docker(this.composeArgs(args), timeoutMs);
  }

  /** Runs `docker <args>` to the end; rejects with its stderr unless it exits 0. */
  docker(args: readonly string[], timeoutMs = 120_000): Promise<string> {
    return this.command('docker', args, timeoutMs);
  }

  /** Runs a command with this stack's environment (e.g. deploy/compose/switch.sh); rejects with its stderr unless it exits 0. */
  async command(file: string, args: readonly string[], timeoutMs = 120_000): Promise<string> {
    try {
      const { stdout } = await run(file, [...args], { env: this.env, timeout: timeoutMs, maxBuffer: 256 * 1024 * 1024 });
      return stdout;
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new Error(`${path.basename(file)} ${args.join(' ')} failed: ${(e.stderr || e.message).trim().split('\n').slice(-5).join('\n')}`);
    }
  }

  /** Ids of the running containers of `service`, in container-number order. */
  async containers(service: string): Promise<string[]> {
    const out = await this.compose(['ps', '--format', '{{.ID}} {{.Name}}', service]);
    return out
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split(' '))
      .sort((a, b) => a[1].localeCompare(b[1], 'en', { numeric: true }))
      .map(([id]) => id);
  }

  /** The name of a container. */
  async containerName(id: string): Promise<string> {
    return (await this.docker(['inspect', '--format', '{{.Name}}', id])).trim().replace(/^\//, '');
  }
}
