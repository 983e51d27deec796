import { CommanderError } from 'commander';
import { GateRefusedError, MigrationDefinitionError } from '@zdm/migrations-core';
import { CliError, ConfigError, EXIT_CODES_HELP, ExitCode, exitCodeForError, exitCodeForRun, refusedByGates } from './exit-codes';

describe('exit codes', () => {
  it('maps each kind of failure to the documented code', () => {
    expect(exitCodeForError(new Error('boom'))).toBe(ExitCode.unexpected);
    expect(exitCodeForError('a string')).toBe(ExitCode.unexpected);
    expect(exitCodeForError(new ConfigError('no config'))).toBe(ExitCode.usage);
    expect(exitCodeForError(new MigrationDefinitionError([{ migrationId: 'a', code: 'not-plus-one', message: 'x' }]))).toBe(ExitCode.usage);
    expect(exitCodeForError(new GateRefusedError('a', 'expand', []))).toBe(ExitCode.refused);
    expect(exitCodeForError(new CliError(ExitCode.leaseHeld, 'held'))).toBe(ExitCode.leaseHeld);
  });

  it('treats help and version as success and every other commander error as a usage error', () => {
    expect(exitCodeForError(new CommanderError(0, 'commander.helpDisplayed', '(outputHelp)'))).toBe(ExitCode.ok);
    expect(exitCodeForError(new CommanderError(0, 'commander.version', '1.0.0'))).toBe(ExitCode.ok);
    expect(exitCodeForError(new CommanderError(1, 'commander.help', '(outputHelp)'))).toBe(ExitCode.usage);
    expect(exitCodeForError(new CommanderError(1, 'commander.unknownOption', "error: unknown option '--x'"))).toBe(ExitCode.usage);
  });

  it('maps how a job ended: done 0, lease 4, aborted or stopped 5', () => {
    expect(exitCodeForRun('done')).toBe(0);
    expect(exitCodeForRun('lease-held')).toBe(4);
    expect(exitCodeForRun('lease-lost')).toBe(4);
    expect(exitCodeForRun('aborted')).toBe(5);
    expect(exitCodeForRun('stopped')).toBe(5);
  });

  it('documents every code in the help text', () => {
    for (const code of Object.values(ExitCode)) expect(EXIT_CODES_HELP).toMatch(new RegExp(`^  ${code}  \\S`, 'm'));
  });

  it('names every failing gate in a refusal', () => {
    const err = refusedByGates('a.b', 'expand', [
      { gate: 'instances-live', ok: false, detail: '0 live' },
      { gate: 'all-instances-read-new', ok: false, detail: 'not yet: x' },
    ]);
    expect(err.exitCode).toBe(ExitCode.refused);
    expect(err.message).toContain('instances-live: 0 live');
    expect(err.message).toContain('all-instances-read-new: not yet: x');
    expect(err.details['failingGates']).toEqual([
      { gate: 'instances-live', detail: '0 live' },
      { gate: 'all-instances-read-new', detail: 'not yet: x' },
    ]);
  });
});
