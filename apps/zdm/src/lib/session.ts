import {
  Actor,
  FlagAdmin,
  MigrationBackend,
  MigrationDefinition,
  MigrationDefinitionError,
  MigrationRegistry,
  Migrator,
  Orchestrator,
} from '@zdm/migrations-core';
import { ZdmConfig, ZdmConnection, connectionProblems } from '../config';
import { CliError, ConfigError, ExitCode } from './exit-codes';
import { Reporter } from './reporter';

/** What every command works with, for the lifetime of one CLI invocation. */
export interface Session {
  config: ZdmConfig;
  migrator: Migrator;
  /** Decides each step (jobs, advances, flag rollouts); commands only render what it did. */
  orchestrator: Orchestrator;
  /** The flag admin the config connected, if any (the migrator changes flags through it). */
  flags?: FlagAdmin;
  reporter: Reporter;
  /** Actor and reason written to the audit log. */
  who: Actor;
  /** Aborted on SIGINT/SIGTERM: runners stop between batches. */
  signal: AbortSignal;
}

/** Reads the checksums recorded when migrations left `pending`, to refuse edited definitions. */
export async function appliedChecksums(backend: MigrationBackend): Promise<Record<string, string>> {
  const states = await backend.store.state.list();
  return Object.fromEntries(states.filter((s) => s.phase !== 'pending' && s.checksum).map((s) => [s.id, s.checksum]));
}

/**
 * Validates the definitions (before connecting, so a broken chain fails fast), connects, validates
 * again against the checksums already applied, and runs `fn` with a ready {@link Migrator}.
 * The connection is closed whatever happens.
 */
export async function withSession<T>(
  config: ZdmConfig,
  context: Pick<Session, 'reporter' | 'who' | 'signal'>,
  fn: (session: Session) => Promise<T>,
): Promise<T> {
  const shapeProblems = new MigrationRegistry(config.migrations).problems();
  if (shapeProblems.length) throw new MigrationDefinitionError(shapeProblems);
  const connection: ZdmConnection = await config.connect();
  try {
    const problems = connectionProblems(connection);
    if (problems.length) throw new ConfigError(`invalid connection from config:\n` + problems.map((p) => `  - ${p}`).join('\n'));
    const registry = MigrationRegistry.create(config.migrations, { appliedChecksums: await appliedChecksums(connection.backend) });
    const migrator = new Migrator({
      registry,
      backend: connection.backend,
      flags: connection.flags,
      throttle: config.throttle,
      leaseTtlMs: config.leaseTtlMs,
      minInstances: config.minInstances,
      schemas: connection.schemas,
    });
    const orchestrator = new Orchestrator({ migrator, who: context.who, signal: context.signal, listener: context.reporter });
    return await fn({ ...context, config, migrator, orchestrator, flags: connection.flags });
  } finally {
    await connection.close?.();
  }
}

/** The definition of `id`, or a usage error listing the known ids. */
export function requireDef(s: Session, id: string): MigrationDefinition {
  if (!s.migrator.registry.has(id)) {
    const known = s.migrator.registry.all().map((d) => d.id);
    throw new CliError(ExitCode.usage, `unknown migration "${id}"; known: ${known.join(', ') || '(none)'}`, { known });
  }
  return s.migrator.registry.get(id);
}
