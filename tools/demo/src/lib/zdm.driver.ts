import path from 'node:path';
import { ROOT } from './service.fleet';
import { ManagedProcess, ProcessSupervisor } from './process-supervisor';

/** One JSON line of `zdm --json`: `event` is `phase`, `progress`, `waiting`, `result`, ... */
export interface ZdmEvent {
  event: string;
  at?: string;
  [key: string]: unknown;
}

/** How one `zdm` command ended. */
export interface ZdmOutcome {
  exitCode: number | null;
  signal: string | null;
  /** The final `result` line, if the command lived to print it. */
  result: ZdmEvent | null;
}

/** A `zdm` command running as a child process. */
export interface ZdmInvocation {
  name: string;
  proc: ManagedProcess;
  done: Promise<ZdmOutcome>;
}

/** Options of {@link ZdmDriver}. */
export interface ZdmDriverOptions {
  supervisor: ProcessSupervisor;
  /** Config module for `--config`. */
  config: string;
  /** Environment of the CLI (database and Unleash admin URLs). */
  env: NodeJS.ProcessEnv;
  /** Actor written to the audit log. */
  actor: string;
  /** Prefix of each invocation's name (its log file, its container), e.g. the service: `zdm-orders-3-run`. Default none. */
  name?: string;
  /** Global options added to every command (e.g. `--lease-ttl 3000`). */
  globals?: string[];
  /** Every JSON line of every command, as it comes. */
  onEvent?: (event: ZdmEvent, invocation: string) => void;
  /**
   * How to start the CLI, given the invocation's name (e.g. to name its container). Default: this
   * checkout's apps/zdm under Node with @swc-node/register.
   */
  launch?: (name: string) => { command: string; args: string[] };
}

/**
 * Runs the `zdm` CLI (apps/zdm) as child processes with `--json`, as an operator or a CI job
 * would. Every decision (which job a phase runs, when to advance, waiting for the flags) is the
 * `Orchestrator` of `@zdm/migrations-core`, which the CLI only wires and renders; the demo runs it
 * in child processes so that the runner can be SIGKILLed like any real process and resumed by the
 * next command, which an in-process call could not survive.
 */
export class ZdmDriver {
  private count = 0;
  private readonly listeners = new Set<(event: ZdmEvent, invocation: string) => void>();
  private readonly running = new Set<ZdmInvocation>();
  private blocked: string | null = null;

  constructor(private readonly options: ZdmDriverOptions) {}

  /** Starts `zdm <args...>`; `reason` goes to the audit log. */
  start(args: readonly string[], reason: string): ZdmInvocation {
    if (this.blocked) throw new Error(`zdm ${args.join(' ')} not started: ${this.blocked}`);
    const name = `zdm-${this.options.name ? `${this.options.name}-` : ''}${++this.count}-${args[0]}`;
    let result: ZdmEvent | null = null;
    const cli = this.options.launch?.(name) ?? { command: process.execPath, args: ['-r', '@swc-node/register', path.join(ROOT, 'apps', 'zdm', 'src', 'main.ts')] };
    const globals = ['--config', this.options.config, '--json', '--actor', this.options.actor, '--reason', reason, ...(this.options.globals ?? [])];
    const proc = this.options.supervisor.start(name, cli.command, [...cli.args, ...globals, ...args], {
      env: { ...this.options.env, SWC_NODE_PROJECT: path.join(ROOT, 'tsconfig.base.json') },
      cwd: ROOT,
      onStdoutLine: (line) => {
        if (!line.startsWith('{')) return;
        let event: ZdmEvent;
        try {
          event = JSON.parse(line) as ZdmEvent;
        } catch {
          return;
        }
        if (event.event === 'result') result = event;
        this.options.onEvent?.(event, name);
        for (const listener of this.listeners) listener(event, name);
      },
    });
    const done = proc.exited.then((exit) => ({ exitCode: exit.code, signal: exit.signal, result }));
    const invocation = { name, proc, done };
    this.running.add(invocation);
    void done.then(() => this.running.delete(invocation));
    return invocation;
  }

  /**
   * SIGTERM to every command still running (runners stop after their current batch, checkpoint
   * kept), and no new command until {@link unblock}.
   */
  stopAll(reason: string): void {
    this.blocked = reason;
    for (const invocation of this.running) invocation.proc.signal('SIGTERM');
  }

  unblock(): void {
    this.blocked = null;
  }

  /** Adds a listener for every JSON line of every command from now on. */
  listen(listener: (event: ZdmEvent, invocation: string) => void): void {
    this.listeners.add(listener);
  }

  unlisten(listener: (event: ZdmEvent, invocation: string) => void): void {
    this.listeners.delete(listener);
  }

  /** Runs `zdm <args...>` to the end; rejects with the CLI's own message unless it exits 0. */
  async run(args: readonly string[], reason: string): Promise<ZdmEvent> {
    const invocation = this.start(args, reason);
    const outcome = await invocation.done;
    if (outcome.exitCode !== 0 || !outcome.result) {
      const said = outcome.result?.['error'] ?? outcome.result?.['message'];
      const message = typeof said === 'string' ? said : `no result (see ${invocation.proc.logFile})`;
      throw new Error(`zdm ${args.join(' ')} exited ${outcome.exitCode ?? outcome.signal}: ${message}`);
    }
    return outcome.result;
  }
}
