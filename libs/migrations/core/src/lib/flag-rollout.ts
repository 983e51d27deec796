import { InstanceHeartbeat } from './migration.types';

/** How long and how often a flag rollout is confirmed against the heartbeats. */
export interface FlagConfirmOptions {
  /** Longest wait for every live instance to report the new values, in ms. 0 skips the wait. */
  timeoutMs: number;
  /** How often the heartbeats are read again, in ms. */
  pollMs: number;
}

/** What was seen once every live instance reported the flag values a phase change set. */
export interface FlagConfirmation {
  flags: Record<string, boolean>;
  /** Live instances of the service that report them. */
  instances: string[];
  waitedMs: number;
}

/** `on`, `off`, or `?` for a flag an instance does not report. */
export const onOff = (v: boolean | undefined): string => (v === undefined ? '?' : v ? 'on' : 'off');

/** `flag=on flag=off`, as the rollout messages list flags. */
export const listFlags = (flags: Record<string, boolean>): string =>
  Object.entries(flags)
    .map(([f, v]) => `${f}=${onOff(v)}`)
    .join(' ');

/** The instances that do not (yet) report each of `flags` with its value, with what they report. */
export function laggingInstances(instances: readonly InstanceHeartbeat[], flags: Record<string, boolean>): { instanceId: string; reports: string }[] {
  return instances
    .map((i) => {
      const wrong = Object.entries(flags).filter(([flag, value]) => i.flags[flag] !== value);
      return { instanceId: i.instanceId, reports: wrong.map(([flag]) => `${flag}=${onOff(i.flags[flag])}`).join(' ') };
    })
    .filter((l) => l.reports);
}
