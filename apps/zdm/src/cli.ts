import { hostname, userInfo } from 'node:os';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { ZdmConfig, configPath, loadConfig } from './config';
import {
  START_JOBS,
  StartJob,
  advanceCommand,
  operatorCommand,
  planCommand,
  quarantineListCommand,
  quarantineRetryCommand,
  rollbackCommand,
  startCommand,
  statusCommand,
  verifyCommand,
} from './lib/commands';
import { CliError, EXIT_CODES_HELP, ExitCode, exitCodeForError } from './lib/exit-codes';
import { HumanReporter, JsonReporter, OutputStream, Reporter } from './lib/reporter';
import { Session, withSession } from './lib/session';
import { walkCommand } from './lib/walk';

/** What the CLI reads and writes; `main.ts` passes the process's, tests pass their own. */
export interface CliIo {
  stdout: OutputStream;
  stderr: OutputStream;
  env: NodeJS.ProcessEnv;
  /** Base for a relative `--config` path. Default: the process's cwd. */
  cwd?: string;
  /** Aborted on SIGINT/SIGTERM: runners stop between batches and the CLI exits 5. */
  signal?: AbortSignal;
  /** Loads the config module. Default: {@link loadConfig}; tests may inject a config. */
  loadConfig?: (file: string) => Promise<ZdmConfig>;
}

/** Options every command accepts. */
export interface GlobalOptions {
  config?: string;
  json?: boolean;
  actor: string;
  reason: string;
}

/** `user@host`, the default actor for the audit log. */
export function defaultActor(env: NodeJS.ProcessEnv = process.env): string {
  let user = env['USER'] ?? 'unknown';
  try {
    user = userInfo().username || user;
  } catch {
    // No passwd entry (some containers): keep $USER.
  }
  return `${user}@${hostname()}`;
}

/** JSON lines unless a person is watching: `--json`, or stdout is not a terminal. */
export function wantsJson(json: boolean | undefined, stdout: OutputStream): boolean {
  return !!json || !stdout.isTTY;
}

function positiveSeconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number of seconds');
  return n;
}

type Handler = (s: Session) => Promise<number>;

/**
 * Builds the `zdm` command tree. `execute(name, command, handler)` is called by each action with
 * the commander command (for its global options) and the work to do within a session.
 */
export function buildProgram(io: Pick<CliIo, 'stdout' | 'stderr' | 'env'>, execute: (name: string, cmd: Command, handler: Handler) => Promise<void>): Command {
  const program = new Command('zdm')
    .description('Zero-downtime migrations: status, dry-run plans, fenced backfills, phase gates, rollback.')
    .addOption(new Option('-c, --config <file>', 'config module exporting a ZdmConfig (default: $ZDM_CONFIG)'))
    .option('--json', 'print JSON lines (default when stdout is not a terminal)')
    .option('--actor <name>', 'who acts, for the audit log', defaultActor(io.env))
    .option('--reason <text>', 'why, for the audit log', 'cli')
    .exitOverride()
    .configureOutput({ writeOut: (t) => io.stdout.write(t), writeErr: (t) => io.stderr.write(t) })
    .showHelpAfterError('(run `zdm --help` for usage)')
    .addHelpText('after', EXIT_CODES_HELP);

  const act = (name: string, handler: (cmd: Command, ...args: never[]) => Handler) =>
    async (...args: unknown[]) => {
      const cmd = args[args.length - 1] as Command;
      await execute(name, cmd, handler(cmd, ...(args.slice(0, -1) as never[])));
    };

  program
    .command('status [id]')
    .description('phase, gates (ok/FAIL), counts, live instances, flags seen, operator command')
    .action(act('status', (_c, id: string | undefined) => (s) => statusCommand(s, id)));
  program
    .command('plan [ids...]')
    .description('dry run: affected documents, phases with their flag changes, duration estimate; writes nothing')
    .action(act('plan', (_c, ids: string[]) => (s) => planCommand(s, ids ?? [])));
  program
    .command('start <id>')
    .description('run a data job under a fenced lease, resuming from its checkpoint (SIGINT stops between batches)')
    .addOption(new Option('--job <job>', 'which job').choices(START_JOBS).default('backfill'))
    .action(act('start', (c, id: string) => (s) => startCommand(s, id, c.opts<{ job: StartJob }>().job)));
  program
    .command('verify <id>')
    .description('full verify pass (mismatches are quarantined) and a down(up(doc)) round trip on a sample')
    .action(act('verify', (_c, id: string) => (s) => verifyCommand(s, id)));
  program
    .command('advance <id>')
    .description('move one phase forward if every gate holds; otherwise exit 3 naming each failing gate')
    .action(act('advance', (_c, id: string) => (s) => advanceCommand(s, id)));
  program
    .command('run <id>')
    .description('walk to complete: advance, run backfill/verify/contract at their phases, wait for gates')
    .addOption(new Option('--timeout <seconds>', 'longest wait for the gates of one phase').argParser(positiveSeconds).default(600))
    .addOption(new Option('--poll <seconds>', 'how often gates are checked while waiting').argParser(positiveSeconds).default(2))
    .action(
      act('run', (c, id: string) => (s) => {
        const o = c.opts<{ timeout: number; poll: number }>();
        return walkCommand(s, id, { timeoutMs: o.timeout * 1000, pollMs: o.poll * 1000 });
      }),
    );
  for (const what of ['pause', 'resume', 'abort'] as const) {
    const does = { pause: 'hold runners after their current batch', resume: 'let runners continue (also clears an abort)', abort: 'stop runners after their current batch' };
    program
      .command(`${what} <id>`)
      .description(does[what])
      .action(act(what, (_c, id: string) => (s) => operatorCommand(s, id, what)));
  }
  program
    .command('rollback <id>')
    .description('flags back and data restored (before contract), or down() over the data (after contract)')
    .action(act('rollback', (_c, id: string) => (s) => rollbackCommand(s, id)));
  const quarantine = program.command('quarantine').description('documents that could not be migrated or verified');
  quarantine
    .command('list <id>')
    .description('list quarantined documents with reasons (exit 6 when not empty)')
    .action(act('quarantine list', (_c, id: string) => (s) => quarantineListCommand(s, id)));
  quarantine
    .command('retry <id>')
    .description('re-run quarantined documents after fixing them (exit 6 while some remain)')
    .action(act('quarantine retry', (_c, id: string) => (s) => quarantineRetryCommand(s, id)));
  return program;
}

/** Runs the CLI with `argv` (without `node` and the script); resolves to the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const signal = io.signal ?? new AbortController().signal;
  let reporter: Reporter = makeReporter(argv.includes('--json'), io);
  let command = '';
  let exitCode: number = ExitCode.ok;
  const program = buildProgram(io, async (name, cmd, handler) => {
    command = name;
    const globals = cmd.optsWithGlobals<GlobalOptions>();
    reporter = makeReporter(globals.json, io);
    const config = await (io.loadConfig ?? ((file: string) => loadConfig(file, io.cwd)))(configPath(globals.config, io.env));
    exitCode = await withSession(config, { reporter, who: { actor: globals.actor, reason: globals.reason }, signal }, handler);
  });
  const names = new Set(program.commands.map((c) => c.name()));
  command = argv.find((a) => names.has(a)) ?? '';
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (err) {
    const code = exitCodeForError(err);
    // Commander already printed its own message (and help) to stderr.
    if (err instanceof CommanderError) {
      if (code !== ExitCode.ok && reporter instanceof JsonReporter) reporter.error(command, code, err.message, {});
      return code;
    }
    const message = err instanceof Error ? err.message : String(err);
    const details = err instanceof CliError ? err.details : {};
    reporter.error(command, code, message, details);
    if (code === ExitCode.unexpected && err instanceof Error && io.env['ZDM_DEBUG']) io.stderr.write(`${err.stack}\n`);
    return code;
  }
}

function makeReporter(json: boolean | undefined, io: Pick<CliIo, 'stdout' | 'stderr'>): Reporter {
  return wantsJson(json, io.stdout) ? new JsonReporter(io.stdout) : new HumanReporter(io.stdout, io.stderr);
}
