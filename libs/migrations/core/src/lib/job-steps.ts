import { Step, TargetItem } from './backfill-runner';
import { Doc, MigrationDefinition, isLazyAdditive } from './migration.types';

function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Checks a migrated document with `verify`; `null` when it holds (or there is no verify). */
export function verifyFailure(def: MigrationDefinition, doc: Doc): string | null {
  if (!def.verify) return null;
  try {
    const result = def.verify(doc);
    return result === true ? null : `verify failed: ${result || 'returned false'}`;
  } catch (err) {
    return `verify threw: ${reasonOf(err)}`;
  }
}

/** Backfill: rewrites `from` items with `up`, keeping the old fields; quarantines what fails. */
export function backfillStep(def: MigrationDefinition): (item: TargetItem) => Step {
  return (item) => {
    if (item.version >= def.to) return { kind: 'skip' };
    if (item.version < def.from) {
      return { kind: 'quarantine', reason: `at version ${item.version}, below this step's from (${def.from}); run the earlier step first` };
    }
    const next = verifiedUp(def, item.doc);
    return 'reason' in next ? { kind: 'quarantine', reason: next.reason } : { kind: 'write', doc: next.doc, version: def.to };
  };
}

/** `up(doc)` checked by `verify`: the new document, or why it cannot be used. */
function verifiedUp(def: MigrationDefinition, doc: Doc): { doc: Doc } | { reason: string } {
  let next: Doc;
  try {
    next = def.up(doc);
  } catch (err) {
    return { reason: `up threw: ${reasonOf(err)}` };
  }
  if (!next || typeof next !== 'object') return { reason: 'up returned no document' };
  const failed = verifyFailure(def, next);
  return failed ? { reason: failed } : { doc: next };
}

/**
 * Verify pass: reads only; items below `to` or failing `verify` are quarantined. A lazy additive
 * migration leaves `from` items at rest on purpose, so for those it verifies what readers see: `up(doc)`.
 */
export function verifyStep(def: MigrationDefinition): (item: TargetItem) => Step {
  const lazy = isLazyAdditive(def);
  return (item) => {
    if (lazy && item.version === def.from) {
      const upcast = verifiedUp(def, item.doc);
      return 'reason' in upcast ? { kind: 'quarantine', reason: upcast.reason } : { kind: 'skip' };
    }
    if (item.version < def.to) return { kind: 'quarantine', reason: `still at version ${item.version}, expected ${def.to}` };
    const failed = verifyFailure(def, item.doc);
    return failed ? { kind: 'quarantine', reason: failed } : { kind: 'skip' };
  };
}

/** Contract: removes `removedFields` from items at `to`. */
export function contractStep(def: MigrationDefinition): (item: TargetItem) => Step {
  const removed = def.removedFields ?? [];
  return (item) => {
    if (item.version < def.to) return { kind: 'quarantine', reason: `at version ${item.version} during contract; backfill it first` };
    if (!removed.some((f) => f in item.doc)) return { kind: 'skip' };
    const next: Doc = { ...item.doc };
    for (const f of removed) delete next[f];
    return { kind: 'write', doc: next, version: item.version };
  };
}

/** Rollback after contract: rewrites `to` items with `down`. */
export function downStep(def: MigrationDefinition): (item: TargetItem) => Step {
  const down = def.down;
  if (!down) throw new Error(`${def.id} has no down(); it cannot be rolled back past contract`);
  return (item) => {
    if (item.version < def.to) return { kind: 'skip' };
    if (item.version > def.to) return { kind: 'quarantine', reason: `at version ${item.version}, above this step's to (${def.to})` };
    try {
      return { kind: 'write', doc: down(item.doc), version: def.from };
    } catch (err) {
      return { kind: 'quarantine', reason: `down threw: ${reasonOf(err)}` };
    }
  };
}

/** Rollback before contract: old fields are intact, so drop the added fields and go back to `from`. */
export function unexpandStep(def: MigrationDefinition): (item: TargetItem) => Step {
  const added = def.addedFields ?? [];
  return (item) => {
    if (item.version < def.to) return { kind: 'skip' };
    if (item.version > def.to) return { kind: 'quarantine', reason: `at version ${item.version}, above this step's to (${def.to})` };
    const next: Doc = { ...item.doc };
    for (const f of added) delete next[f];
    return { kind: 'write', doc: next, version: def.from };
  };
}

/** Result of {@link roundTripCheck}. */
export interface RoundTripReport {
  reversible: boolean;
  sampled: number;
  failures: { id: string; reason: string }[];
}

const stable = (v: unknown): string =>
  JSON.stringify(v, (_k, val) =>
    val && typeof val === 'object' && !Array.isArray(val)
      ? Object.fromEntries(Object.entries(val as Doc).sort(([a], [b]) => a.localeCompare(b)))
      : val,
  );

/**
 * Runs `down(up(doc))` on a sample of `from` documents and compares with the original, ignoring
 * the fields `up` keeps for old readers. A migration without `down` is reported irreversible.
 */
export function roundTripCheck(def: MigrationDefinition, sample: { id: string; doc: Doc }[]): RoundTripReport {
  if (!def.down) {
    return { reversible: false, sampled: 0, failures: [{ id: '-', reason: `${def.id} has no down(): irreversible past contract` }] };
  }
  const failures: { id: string; reason: string }[] = [];
  const removed = def.removedFields ?? [];
  for (const { id, doc } of sample) {
    try {
      const upped: Doc = { ...def.up(doc) };
      for (const f of removed) delete upped[f];
      const back = def.down(upped);
      const a = stable(doc);
      const b = stable(back);
      if (a !== b) failures.push({ id, reason: `down(up(doc)) differs: ${b} != ${a}` });
    } catch (err) {
      failures.push({ id, reason: `threw: ${reasonOf(err)}` });
    }
  }
  return { reversible: failures.length === 0, sampled: sample.length, failures };
}
