import { CommanderError } from 'commander';
import { GateRefusedError, GateResult, JobLeaseHeldError, MigrationDefinitionError, OrchestrationError, RunStatus, describeRefusal, failingGates } from '@zdm/migrations-core';

/** Exit codes scripts can rely on. Documented in `zdm --help` and the README. */
export const ExitCode = {
  /** The command did what it was asked. */
  ok: 0,
  /** Something unexpected failed (a bug, a lost connection). */
  unexpected: 1,
  /** Bad arguments, bad config, invalid migration definitions, unknown migration id. */
  usage: 2,
  /** Refused: a gate does not hold, or the phase does not allow the operation. */
  refused: 3,
  /** Another runner holds (or took over) the lease of this job. */
  leaseHeld: 4,
  /** Stopped before done: aborted, paused, or interrupted by SIGINT/SIGTERM (checkpoint kept). */
  stopped: 5,
  /** Quarantine not empty, or verify found mismatches. */
  quarantine: 6,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** The exit-code table as shown at the end of `zdm --help`. */
export const EXIT_CODES_HELP = `
Exit codes:
  0  success
  1  unexpected error
  2  usage or config error (including invalid migration definitions, unknown id)
  3  refused: a gate does not hold, or the phase does not allow the operation
  4  the job's lease is held by another runner
  5  aborted, paused or stopped (SIGINT/SIGTERM) before done; the checkpoint is kept
  6  quarantine not empty, or verify found mismatches
`;

/** A failure the CLI explains itself: a message, an exit code and optional details for JSON output. */
export class CliError extends Error {
  constructor(
    readonly exitCode: ExitCodeValue,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** Thrown when the config module cannot be found, loaded or does not have the expected shape. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Turns a gate refusal into a CLI error naming each failing gate. */
export function refusedByGates(id: string, phase: string, failing: readonly GateResult[], prefix = `cannot leave ${phase}`): CliError {
  return new CliError(ExitCode.refused, describeRefusal(id, phase, failing, prefix), { phase, failingGates: failingGates(failing) });
}

/** Exit code per way the orchestrator stops short. */
const ORCHESTRATION_EXIT: Record<OrchestrationError['kind'], ExitCodeValue> = {
  refused: ExitCode.refused,
  'needs-person': ExitCode.quarantine,
  stopped: ExitCode.stopped,
};

/** The details a failure carries into the JSON result line. */
export function errorDetails(err: unknown): Record<string, unknown> {
  return err instanceof CliError || err instanceof OrchestrationError ? err.details : {};
}

/** Maps anything thrown by a command to its exit code. */
export function exitCodeForError(err: unknown): ExitCodeValue {
  if (err instanceof CliError) return err.exitCode;
  if (err instanceof CommanderError) return isHelpOrVersion(err) ? ExitCode.ok : ExitCode.usage;
  if (err instanceof ConfigError || err instanceof MigrationDefinitionError) return ExitCode.usage;
  if (err instanceof GateRefusedError) return ExitCode.refused;
  if (err instanceof JobLeaseHeldError) return ExitCode.leaseHeld;
  if (err instanceof OrchestrationError) return ORCHESTRATION_EXIT[err.kind];
  return ExitCode.unexpected;
}

/** Commander reports `--help` and `--version` by throwing too (with exit code 0); those are successes. */
export function isHelpOrVersion(err: CommanderError): boolean {
  return err.exitCode === 0;
}

/** Maps how a job ended to an exit code (before looking at the quarantine). */
export function exitCodeForRun(status: RunStatus): ExitCodeValue {
  switch (status) {
    case 'done':
      return ExitCode.ok;
    case 'lease-held':
    case 'lease-lost':
      return ExitCode.leaseHeld;
    case 'aborted':
    case 'stopped':
      return ExitCode.stopped;
  }
}
