import { hostname, userInfo } from 'node:os';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { ZdmConfig, configPath, loadConfig } from './config';
import { PHASES, PHASE_JOBS, Phase, PhaseJob } from '@zdm/migrations-core';
import {
  advanceCommand,
  auditCommand,
  lazyExpireCommand,
  type LazyExpireCliOptions,
  operatorCommand,
  planCommand,
  quarantineListCommand,
  quarantinePatchCommand,
  quarantineRetryCommand,
  type PatchOptions,
  rollbackCommand,
  startCommand,
  statusCommand,
  verifyCommand,
  walkCommand,
} from './lib/commands';
import { EXIT_CODES_HELP, ExitCode, errorDetails, exitCodeForError } from './lib/exit-codes';
import { HumanReporter, JsonReporter, OutputStream, Reporter } from './lib/reporter';
import { Session, withSession } from './lib/session';

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
  /** Overrides the config's `leaseTtlMs`. */
  leaseTtl?: number;
  /** Overrides the config's `minInstances`. */
  minInstances?: number;
  /** Overrides the config's `throttle.initialBatchSize`. */
  batchSize?: number;
  /** Overrides the config's `throttle.targetLatencyMs`. */
  targetLatency?: number;
}

/** The config with the command line's overrides applied (the operator tunes a run without editing code). */
export function withOverrides(config: ZdmConfig, o: Pick<GlobalOptions, 'leaseTtl' | 'minInstances' | 'batchSize' | 'targetLatency'>): ZdmConfig {
  const throttle = { ...config.throttle };
  if (o.batchSize !== undefined) {
    throttle.initialBatchSize = o.batchSize;
    // An explicit first batch must fit the bounds, the config's or the throttle's defaults (50..2000).
    if ((throttle.maxBatchSize ?? 2000) < o.batchSize) throttle.maxBatchSize = o.batchSize;
    if ((throttle.minBatchSize ?? 50) > o.batchSize) throttle.minBatchSize = o.batchSize;
  }
  if (o.targetLatency !== undefined) throttle.targetLatencyMs = o.targetLatency;
  return {
    ...config,
    throttle,
    ...(o.leaseTtl !== undefined ? { leaseTtlMs: o.leaseTtl } : {}),
    ...(o.minInstances !== undefined ? { minInstances: o.minInstances } : {}),
  };
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

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a number of seconds (0 or more)');
  return n;
}

function wholeNumber(min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || n < min) throw new InvalidArgumentError(`expected a whole number >= ${min}`);
    return n;
  };
}

type Handler = (s: Session) => Promise<number>;

/** Phases `zdm run --to` can stop in (the forward path after pending). */
const WALK_TARGETS = PHASES.filter((p) => p !== 'pending' && p !== 'rolled-back');

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
    .addOption(new Option('--lease-ttl <ms>', "runners' lease lifetime (overrides the config's leaseTtlMs)").argParser(wholeNumber(100)))
    .addOption(new Option('--min-instances <n>', "fewest live instances a gate accepts (overrides the config's minInstances)").argParser(wholeNumber(0)))
    .addOption(new Option('--batch-size <n>', "runners' first batch size (overrides the config's throttle)").argParser(wholeNumber(1)))
    .addOption(new Option('--target-latency <ms>', "batch latency runners aim for (overrides the config's throttle)").argParser(wholeNumber(1)))
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
    .addOption(new Option('--job <job>', 'which job').choices(PHASE_JOBS).default('backfill'))
    .action(act('start', (c, id: string) => (s) => startCommand(s, id, c.opts<{ job: PhaseJob }>().job)));
  program
    .command('verify <id>')
    .description('full verify pass (mismatches are quarantined) and a down(up(doc)) round trip on a sample')
    .action(act('verify', (_c, id: string) => (s) => verifyCommand(s, id)));
  program
    .command('advance <id>')
    .description('move one phase forward if every gate holds (else exit 3 naming each failing gate), then wait until every live instance reports the flags it flipped')
    .addOption(new Option('--flags-timeout <seconds>', 'longest wait for instances to report the new flag values (0: do not wait)').argParser(seconds).default(120))
    .action(
      act('advance', (c, id: string) => (s) => {
        const timeoutMs = c.opts<{ flagsTimeout: number }>().flagsTimeout * 1000;
        return advanceCommand(s, id, { timeoutMs, pollMs: 250 });
      }),
    );
  program
    .command('run <id>')
    .description('walk to complete (or --to a phase): advance, run backfill/verify/contract at their phases, wait for gates')
    .addOption(new Option('--timeout <seconds>', 'longest wait for the gates of one phase').argParser(positiveSeconds).default(600))
    .addOption(new Option('--poll <seconds>', 'how often gates are checked while waiting').argParser(positiveSeconds).default(2))
    .addOption(new Option('--to <phase>', 'stop once the migration is in this phase').choices(WALK_TARGETS).default('complete'))
    .action(
      act('run', (c, id: string) => (s) => {
        const o = c.opts<{ timeout: number; poll: number; to: Phase }>();
        return walkCommand(s, id, { timeoutMs: o.timeout * 1000, pollMs: o.poll * 1000, to: o.to });
      }),
    );
  program
    .command('audit <id>')
    .description('the audit log of a migration: phase changes, flags set and seen, jobs, pauses, rollbacks, with actor and reason')
    .addOption(new Option('--limit <n>', 'newest entries to show').argParser(wholeNumber(1)).default(200))
    .action(act('audit', (c, id: string) => (s) => auditCommand(s, id, c.opts<{ limit: number }>().limit)));
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
  const repeatable = (value: string, previous: string[]) => [...previous, value];
  quarantine
    .command('patch <id> <docId>')
    .description('fix a quarantined document: set fields to JSON values and/or remove fields, audited with --actor and --reason (required), then re-run it (exit 6 while it stays quarantined)')
    .option('--set <path=json>', 'a field to set, e.g. lines.0.unitPrice=19.99 or currency=\'"EUR"\' (repeatable)', repeatable, [])
    .option('--unset <path>', 'a field to remove (repeatable)', repeatable, [])
    .action(act('quarantine patch', (_c, id: string, docId: string, options: PatchOptions) => (s) => quarantinePatchCommand(s, id, docId, options)));
  const lazy = program.command('lazy').description('lazy-only migrations: documents only the service can upgrade (e.g. password hashes at login)');
  lazy
    .command('expire <id>')
    .description(
      "once the deadline has passed, rewrite every document still below the target version with the migration's expire hook (e.g. the user must reset the password; nothing is deleted), audited with --actor and --reason (required); exit 6 when some could not be expired",
    )
    .requiredOption('--before <deadline>', 'the deadline users were given to upgrade, ISO 8601 (e.g. 2026-03-01T00:00:00Z); refused until it has passed')
    .option('--dry-run', 'count what would be expired; write nothing')
    .action(act('lazy expire', (_c, id: string, options: LazyExpireCliOptions) => (s) => lazyExpireCommand(s, id, options)));
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
    const config = withOverrides(await (io.loadConfig ?? ((file: string) => loadConfig(file, io.cwd)))(configPath(globals.config, io.env)), globals);
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
    const details = errorDetails(err);
    reporter.error(command, code, message, details);
    if (code === ExitCode.unexpected && err instanceof Error && io.env['ZDM_DEBUG']) io.stderr.write(`${err.stack}\n`);
    return code;
  }
}

function makeReporter(json: boolean | undefined, io: Pick<CliIo, 'stdout' | 'stderr'>): Reporter {
  return wantsJson(json, io.stdout) ? new JsonReporter(io.stdout) : new HumanReporter(io.stdout, io.stderr);
}
