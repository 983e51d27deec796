import { ChildProcess, fork, spawn } from 'node:child_process';
import { appendFileSync, closeSync, openSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';

/** How a process ended. */
export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Options of {@link ProcessSupervisor.start}. */
export interface StartProcessOptions {
  /** Full environment of the child (nothing is inherited implicitly). */
  env: NodeJS.ProcessEnv;
  cwd?: string;
  /** Fork a Node module with an IPC channel instead of spawning a command (`command` is then the module). */
  fork?: { execPath: string; execArgv: string[] };
  /** Called with each line the child writes to stdout (which still goes to the log file too). */
  onStdoutLine?: (line: string) => void;
}

/** A child process in its own process group, with its output in a log file. */
export class ManagedProcess {
  readonly exited: Promise<ProcessExit>;
  private exit: ProcessExit | null = null;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
    readonly logFile: string,
  ) {
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
      child.once('error', () => {
        this.exit ??= { code: null, signal: null };
        resolve(this.exit);
      });
    });
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  get running(): boolean {
    return this.exit === null && this.pid > 0;
  }

  /** Sends `signal` to the whole process group (the child and anything it started). */
  signal(signal: NodeJS.Signals): void {
    if (!this.running) return;
    try {
      process.kill(-this.pid, signal);
    } catch {
      // the group is already gone
    }
  }

  /** Sends `signal` (default SIGTERM), waits up to `timeoutMs`, then SIGKILLs the group. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000): Promise<ProcessExit> {
    if (!this.running) return this.exit ?? { code: null, signal: null };
    this.signal(signal);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), timeoutMs)));
    const exit = await Promise.race([this.exited, late]);
    clearTimeout(timer);
    if (exit) {
      // Whatever the child left behind in its group goes too.
      this.killGroup();
      return exit;
    }
    this.killGroup();
    return this.exited;
  }

  private killGroup() {
    try {
      process.kill(-this.pid, 'SIGKILL');
    } catch {
      // nothing left
    }
  }
}

/**
 * A tiny watchdog, detached from the demo: once the demo's process is gone (even SIGKILLed), it
 * kills every process group listed in the pid file. The logs stay, for the post-mortem.
 */
const REAPER = `
const fs = require('node:fs');
const [parent, pidFile] = process.argv.slice(1);
const alive = (pid) => { try { process.kill(pid, 0); return true; } catch (e) { return e.code === 'EPERM'; } };
setInterval(() => {
  if (alive(Number(parent))) return;
  let pids = [];
  try { pids = fs.readFileSync(pidFile, 'utf8').split('\\n').filter(Boolean).map(Number); } catch {}
  for (const pid of pids) { try { process.kill(-pid, 'SIGKILL'); } catch {} }
  process.exit(0);
}, 300);
`;

/**
 * Starts the demo's processes, each in its own process group with its output in `<dir>/<name>.log`,
 * and stops all of them on {@link stopAll}. A detached watchdog stops them too if the demo itself is
 * killed, so nothing outlives a run, however it ends.
 */
export class ProcessSupervisor {
  private readonly processes = new Set<ManagedProcess>();
  private readonly pidFile: string;
  private reaper: ChildProcess | undefined;

  constructor(readonly dir: string) {
    this.pidFile = path.join(dir, 'process-groups');
  }

  /** Starts the watchdog; call once, before starting anything else. */
  watchParent(): void {
    writeFileSync(this.pidFile, '');
    this.reaper = spawn(process.execPath, ['-e', REAPER, String(process.pid), this.pidFile], { detached: true, stdio: 'ignore' });
    this.reaper.unref();
  }

  start(name: string, command: string, args: readonly string[], options: StartProcessOptions): ManagedProcess {
    const logFile = path.join(this.dir, `${name}.log`);
    const out = openSync(logFile, 'a');
    const stdout = options.onStdoutLine ? 'pipe' : out;
    let child: ChildProcess;
    try {
      child = options.fork
        ? fork(command, [...args], {
            cwd: options.cwd,
            env: options.env,
            execPath: options.fork.execPath,
            execArgv: options.fork.execArgv,
            detached: true,
            stdio: ['ignore', stdout, out, 'ipc'],
          })
        : spawn(command, [...args], { cwd: options.cwd, env: options.env, detached: true, stdio: ['ignore', stdout, out] });
    } finally {
      closeSync(out);
    }
    if (options.onStdoutLine && child.stdout) forwardLines(child.stdout, logFile, options.onStdoutLine);
    const managed = new ManagedProcess(name, child, logFile);
    this.processes.add(managed);
    this.writePids();
    void managed.exited.then(() => {
      this.processes.delete(managed);
      this.writePids();
    });
    return managed;
  }

  /** Every process still running. */
  running(): ManagedProcess[] {
    return [...this.processes].filter((p) => p.running);
  }

  /** Stops every process (SIGTERM, then SIGKILL after `timeoutMs`), then the watchdog. */
  async stopAll(timeoutMs = 10_000): Promise<void> {
    await Promise.all([...this.processes].map((p) => p.stop('SIGTERM', timeoutMs)));
    this.reaper?.kill('SIGKILL');
  }

  private writePids() {
    try {
      writeFileSync(this.pidFile, [...this.processes].map((p) => p.pid).filter(Boolean).join('\n') + '\n');
    } catch {
      // the directory is gone (cleanup in progress)
    }
  }
}

/** Appends a child's stdout to its log and hands over each complete line. */
function forwardLines(stream: Readable, logFile: string, onLine: (line: string) => void) {
  let pending = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    appendFileSync(logFile, chunk);
    const lines = (pending + chunk).split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) onLine(line);
  });
  stream.on('end', () => pending && onLine(pending));
}
