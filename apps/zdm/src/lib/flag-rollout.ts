import { setTimeout as sleep } from 'node:timers/promises';
import { InstanceHeartbeat, MigrationDefinition, Phase, flagChanges } from '@zdm/migrations-core';
import { CliError, ExitCode } from './exit-codes';
import { Session } from './session';

/** How long and how often {@link confirmFlags} looks at the heartbeats. */
export interface FlagConfirmOptions {
  /** Longest wait for every live instance to report the new values, in ms. 0 skips the wait. */
  timeoutMs: number;
  /** How often the heartbeats are read again, in ms. */
  pollMs: number;
}

/** What {@link confirmFlags} saw once every instance reported the new values. */
export interface FlagConfirmation {
  flags: Record<string, boolean>;
  /** Live instances of the service that report them. */
  instances: string[];
  waitedMs: number;
}

const onOff = (v: boolean | undefined) => (v === undefined ? '?' : v ? 'on' : 'off');

/** The instances that do not (yet) report each of `flags` with its value, with what they report. */
export function laggingInstances(instances: readonly InstanceHeartbeat[], flags: Record<string, boolean>): { instanceId: string; reports: string }[] {
  return instances
    .map((i) => {
      const wrong = Object.entries(flags).filter(([flag, value]) => i.flags[flag] !== value);
      return { instanceId: i.instanceId, reports: wrong.map(([flag]) => `${flag}=${onOff(i.flags[flag])}`).join(' ') };
    })
    .filter((l) => l.reports);
}

/**
 * After a phase change from `from` to `to` flipped flags (through the flag admin, e.g. Unleash's
 * Admin API), waits until every live instance of the service reports the new values in its
 * heartbeat, and records that in the audit log. Flags are evaluated by each instance on its own
 * schedule, so "set" is not "seen": the next phase may only rely on what instances report.
 * Resolves null when the change flips no flag. Past the timeout it records `flags-not-seen` and
 * fails with exit 3 naming the instances that lag (the phase change itself stays).
 */
export async function confirmFlags(s: Session, def: MigrationDefinition, from: Phase, to: Phase, options: FlagConfirmOptions): Promise<FlagConfirmation | null> {
  const flags = flagChanges(def, from, to);
  if (!Object.keys(flags).length || options.timeoutMs <= 0) return null;
  const listed = Object.entries(flags).map(([f, v]) => `${f}=${onOff(v)}`).join(' ');
  if (!s.flags) s.reporter.event('flags-manual', { id: def.id, flags }, `${def.id}: no flag admin configured; set ${listed} yourself (e.g. in Unleash)`);
  const started = performance.now();
  const deadline = started + options.timeoutMs;
  let announced = false;
  for (;;) {
    const instances = (await s.migrator.store.heartbeats.live()).filter((i) => i.service === def.service);
    const lagging = laggingInstances(instances, flags);
    const waitedMs = Math.round(performance.now() - started);
    if (!lagging.length) {
      const seen: FlagConfirmation = { flags, instances: instances.map((i) => i.instanceId), waitedMs };
      await s.migrator.store.audit.append({ migrationId: def.id, at: new Date(), actor: s.who.actor, action: 'flags-seen', reason: s.who.reason, details: { phase: to, ...seen } });
      const who = instances.length ? `all ${instances.length} live instance(s)` : 'no live instance to wait for';
      s.reporter.event('flags-seen', { id: def.id, phase: to, ...seen }, `${def.id}: ${listed} seen by ${who} after ${(waitedMs / 1000).toFixed(1)}s`);
      return seen;
    }
    if (!announced) {
      announced = true;
      s.reporter.event('flags-waiting', { id: def.id, phase: to, flags, lagging }, `${def.id}: waiting for every instance to report ${listed}: ${lagging.map((l) => `${l.instanceId} (${l.reports})`).join(', ')}`);
    }
    const left = deadline - performance.now();
    if (left <= 0) {
      await s.migrator.store.audit.append({ migrationId: def.id, at: new Date(), actor: s.who.actor, action: 'flags-not-seen', reason: s.who.reason, details: { phase: to, flags, lagging, waitedMs } });
      throw new CliError(
        ExitCode.refused,
        `${def.id}: moved to ${to} and set ${listed}, but after ${Math.round(waitedMs / 1000)}s these instances still report otherwise:\n` +
          lagging.map((l) => `  - ${l.instanceId}: ${l.reports}`).join('\n') +
          `\n(check that they reach the flag service; \`zdm status ${def.id}\` shows what each reports)`,
        { phase: to, flags, lagging },
      );
    }
    try {
      await sleep(Math.min(options.pollMs, left), undefined, { signal: s.signal });
    } catch {
      throw new CliError(ExitCode.stopped, `${def.id}: stopped by signal while waiting for instances to report ${listed}`, { phase: to });
    }
  }
}
