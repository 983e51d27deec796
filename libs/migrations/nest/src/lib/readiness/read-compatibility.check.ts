import { InstanceHeartbeat } from '@zdm/migrations-core';
import { ReadRanges } from '../heartbeat/build-schemas.service';

/** Another live instance writes a version of a target that this build cannot read. */
export interface ReadConflict {
  instanceId: string;
  build: string;
  target: string;
  /** The version the other instance writes. */
  writes: number;
  /** This build's read range for the target. */
  readMin: number;
  readMax: number;
}

/**
 * The live instances of `service` (other than `self`) that write a version this build cannot read,
 * one entry per instance and target. Empty means this instance can read everything being written.
 * A v1-only build started while others dual-write v2, for example, gets one conflict per writer.
 */
export function unreadableWrites(
  self: { service: string; instanceId: string },
  ranges: ReadRanges,
  live: readonly InstanceHeartbeat[],
): ReadConflict[] {
  const conflicts: ReadConflict[] = [];
  for (const hb of live) {
    if (hb.service !== self.service || hb.instanceId === self.instanceId) continue;
    for (const [target, range] of Object.entries(ranges)) {
      const writes = hb.schemas?.[target]?.writes;
      if (typeof writes !== 'number') continue;
      if (writes > range.readMax || writes < range.readMin) {
        conflicts.push({ instanceId: hb.instanceId, build: hb.build, target, writes, readMin: range.readMin, readMax: range.readMax });
      }
    }
  }
  return conflicts;
}

/** One sentence for logs and health details. */
export function describeConflict(c: ReadConflict): string {
  return `instance ${c.instanceId} (build ${c.build}) writes ${c.target} v${c.writes}, but this build reads only v${c.readMin}..v${c.readMax}`;
}
