import { MigrationDefinition, flagNames, hasShortPath, isLazyAdditive, lazyOnlyOf, strategyOf } from './migration.types';

/** Every phase a migration can be in. `rolled-back` is terminal like `complete`. */
export const PHASES = [
  'pending',
  'expand',
  'dual-write',
  'backfill',
  'verify',
  'switch-reads',
  'contract',
  'complete',
  'rolled-back',
] as const;

export type Phase = (typeof PHASES)[number];

/** Numeric code per phase, for the `zdm_migration_phase` gauge. */
export function phaseCode(phase: Phase): number {
  return PHASES.indexOf(phase);
}

/** The forward path of a migration, which depends on its strategy. */
export function phasesOf(def: Pick<MigrationDefinition, 'strategy'>): Phase[] {
  if (hasShortPath(def)) return ['pending', 'expand', 'backfill', 'verify', 'complete'];
  return ['pending', 'expand', 'dual-write', 'backfill', 'verify', 'switch-reads', 'contract', 'complete'];
}

/** The next phase on the forward path, or null when there is none. */
export function nextPhase(def: Pick<MigrationDefinition, 'strategy'>, phase: Phase): Phase | null {
  const path = phasesOf(def);
  const i = path.indexOf(phase);
  return i >= 0 && i < path.length - 1 ? path[i + 1] : null;
}

/** True once the old fields may be gone, so rollback needs `down()` over the data. */
export function isPastContract(phase: Phase): boolean {
  return phase === 'contract' || phase === 'complete';
}

/** The flag values every instance should see while a migration is in a phase. */
export function flagsForPhase(def: Pick<MigrationDefinition, 'id' | 'strategy'>, phase: Phase): Record<string, boolean> {
  const f = flagNames(def.id);
  if (hasShortPath(def)) {
    // Nothing is removed, so only the writers' switch matters.
    return { [f.writeNew]: phase === 'backfill' || phase === 'verify' || phase === 'complete' };
  }
  const on = (writeNew: boolean, readNew: boolean, writeOld: boolean) => ({
    [f.writeNew]: writeNew,
    [f.readNew]: readNew,
    [f.writeOld]: writeOld,
  });
  switch (phase) {
    case 'pending':
    case 'expand':
    case 'rolled-back':
      return on(false, false, true);
    case 'dual-write':
      return on(true, false, true);
    case 'backfill':
    case 'verify':
      return on(true, false, true);
    case 'switch-reads':
      return on(true, true, true);
    case 'contract':
    case 'complete':
      return on(true, true, false);
  }
}

/** Which flags change when entering `to` from `from` (only the ones whose value differs). */
export function flagChanges(
  def: Pick<MigrationDefinition, 'id' | 'strategy'>,
  from: Phase,
  to: Phase,
): Record<string, boolean> {
  const before = flagsForPhase(def, from);
  const after = flagsForPhase(def, to);
  return Object.fromEntries(Object.entries(after).filter(([k, v]) => before[k] !== v));
}

/** A short sentence per phase, used by plans and status output. */
export function describePhase(def: MigrationDefinition, phase: Phase): string {
  const additive = strategyOf(def).kind === 'additive';
  const lazy = isLazyAdditive(def);
  const lazyOnly = lazyOnlyOf(def);
  switch (phase) {
    case 'pending':
      return 'registered, nothing changed yet';
    case 'expand':
      return `deploy a build that reads v${def.from} and v${def.to} (upcasts v${def.from} on read) and still writes v${def.from}`;
    case 'dual-write':
      return `writers store v${def.to} documents that keep ${def.removedFields?.join(', ')} so v${def.from} readers still work`;
    case 'backfill':
      if (lazyOnly) {
        return `no backfill (v${def.to} cannot be computed from a stored document): writers store v${def.to}, and each v${def.from} document is upgraded ${lazyOnly.upgradedWhen}; the phase holds until none is left (\`zdm lazy expire\` expires the rest)`;
      }
      if (lazy) return `read-time default: documents stay v${def.from} at rest and are upcast on read, rewritten at v${def.to} on their next write`;
      return additive
        ? `writers store v${def.to}; the runner rewrites every v${def.from} document to v${def.to} (no dual-write needed: nothing is removed)`
        : `the runner rewrites every v${def.from} document to v${def.to}, old fields kept`;
    case 'verify':
      return def.verify ? 'verify(doc) must hold for every document; zero mismatches, zero quarantined' : 'no verify(); checks quarantine only';
    case 'switch-reads':
      return 'readers use the new fields; writers still write both shapes';
    case 'contract':
      return `writers stop writing ${def.removedFields?.join(', ')}; the runner removes them in batches`;
    case 'complete':
      return 'done';
    case 'rolled-back':
      return 'rolled back to the old shape';
  }
}
