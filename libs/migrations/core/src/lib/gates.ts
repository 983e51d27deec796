import { InstanceHeartbeat, MigrationDefinition, flagNames, hasShortPath, isLazyAdditive, lazyOnlyOf, targetName } from './migration.types';
import { Phase } from './phases';

/** Data counts a gate looks at, measured by the adapter right before the check. */
export interface DataCounts {
  /** Documents or keys still below the migration's `to` version. */
  belowTarget: number;
  /** Documents or keys that still carry one of `removedFields`. */
  withOldFields: number;
  /** Open quarantine entries for this migration. */
  quarantined: number;
}

/** The outcome of the last full verify pass, if any. */
export interface VerifyReport {
  at: Date;
  checked: number;
  mismatches: number;
  /** Shadow-read mismatches reported by services since the pass started. */
  shadowMismatches: number;
}

/** Everything a gate needs: live instances, counts, and the verify report. */
export interface GateInput {
  instances: readonly InstanceHeartbeat[];
  counts: DataCounts;
  verify?: VerifyReport | null;
  /** Whether the backfill runner has walked the whole collection at least once. */
  backfillDone?: boolean;
  /** When a backfill pass last finished; a verify pass from before it is stale. */
  backfillDoneAt?: Date | null;
  /** Fewest live instances that must report before any gate holds; defaults to 1. */
  minInstances?: number;
}

/** True when a verify pass ran before the last backfill pass finished: it no longer proves the data. */
export function isVerifyStale(verify: Pick<VerifyReport, 'at'>, backfillDoneAt: Date | null): boolean {
  return !!backfillDoneAt && new Date(verify.at).getTime() < new Date(backfillDoneAt).getTime();
}

/** One named condition and whether it holds. */
export interface GateResult {
  gate: string;
  ok: boolean;
  detail: string;
}

function describeInstances(list: readonly InstanceHeartbeat[]): string {
  return list.map((i) => `${i.instanceId} (${i.build})`).join(', ');
}

function everyInstance(
  name: string,
  instances: readonly InstanceHeartbeat[],
  holds: (i: InstanceHeartbeat) => boolean,
  what: string,
): GateResult {
  const failing = instances.filter((i) => !holds(i));
  return {
    gate: name,
    ok: failing.length === 0,
    detail: failing.length === 0 ? `all ${instances.length} live instances ${what}` : `not yet: ${describeInstances(failing)}`,
  };
}

/**
 * The gates that must hold to leave `phase`. Nothing advances on a timer: every gate is a fact
 * about live instances or about the data.
 */
export function gatesToLeave(def: MigrationDefinition, phase: Phase, input: GateInput): GateResult[] {
  const target = targetName(def.target);
  const flags = flagNames(def.id);
  const instances = input.instances.filter((i) => i.service === def.service);
  const minInstances = input.minInstances ?? 1;
  const shortPath = hasShortPath(def);
  const lazy = isLazyAdditive(def);
  const lazyOnly = lazyOnlyOf(def);
  const results: GateResult[] = [
    {
      gate: 'instances-live',
      ok: instances.length >= minInstances,
      detail: `${instances.length} live instance(s) of ${def.service}, need at least ${minInstances}`,
    },
  ];
  const reads = (i: InstanceHeartbeat) => {
    const s = i.schemas[target];
    return !!s && s.readMin <= def.from && s.readMax >= def.to;
  };
  const writesNew = (i: InstanceHeartbeat) => (i.schemas[target]?.writes ?? 0) >= def.to;
  // A lazy-only migration is never done while a document waits at the old version: nothing else upgrades it.
  const noOldVersionLeft: GateResult | null = lazyOnly && {
    gate: 'no-old-version-left',
    ok: input.counts.belowTarget === 0,
    detail: `${input.counts.belowTarget} document(s) still below v${def.to}, each upgraded ${lazyOnly.upgradedWhen}; \`zdm lazy expire ${def.id} --before <deadline>\` expires the rest`,
  };
  const noQuarantine: GateResult = {
    gate: 'quarantine-empty',
    ok: input.counts.quarantined === 0,
    detail: `${input.counts.quarantined} quarantined document(s)`,
  };
  switch (phase) {
    case 'pending':
      break;
    case 'expand':
      results.push(everyInstance('all-instances-read-new', instances, reads, `read v${def.from} and v${def.to}`));
      break;
    case 'dual-write':
      results.push(everyInstance('write-new-flag-seen', instances, (i) => i.flags[flags.writeNew] === true, `see ${flags.writeNew} on`));
      results.push(everyInstance('no-instance-writes-old', instances, writesNew, `write v${def.to}`));
      break;
    case 'backfill':
      if (shortPath) {
        results.push(everyInstance('write-new-flag-seen', instances, (i) => i.flags[flags.writeNew] === true, `see ${flags.writeNew} on`));
        results.push(everyInstance('no-instance-writes-old', instances, writesNew, `write v${def.to}`));
      }
      if (noOldVersionLeft) results.push(noOldVersionLeft);
      else if (!lazy) {
        results.push({
          gate: 'no-document-below-target',
          ok: input.counts.belowTarget === 0,
          detail: `${input.counts.belowTarget} document(s) below v${def.to}`,
        });
      }
      results.push(noQuarantine);
      break;
    case 'verify': {
      const v = input.verify;
      const doneAt = input.backfillDoneAt ?? null;
      const stale = !!v && isVerifyStale(v, doneAt);
      results.push({
        gate: 'verify-ran',
        ok: !!v && !stale,
        detail: !v
          ? 'no verify pass recorded; run `zdm verify`'
          : stale && doneAt
            ? `last verify at ${v.at.toISOString()} is older than the last backfill pass (done at ${doneAt.toISOString()}); run \`zdm verify\` again`
            : `last verify at ${v.at.toISOString()} checked ${v.checked}`,
      });
      results.push({
        gate: 'verify-mismatches-zero',
        ok: !!v && v.mismatches === 0 && v.shadowMismatches === 0,
        detail: v ? `${v.mismatches} verify mismatch(es), ${v.shadowMismatches} shadow-read mismatch(es)` : 'no verify pass',
      });
      if (noOldVersionLeft) results.push(noOldVersionLeft);
      results.push(noQuarantine);
      break;
    }
    case 'switch-reads':
      results.push(everyInstance('read-new-flag-seen', instances, (i) => i.flags[flags.readNew] === true, `see ${flags.readNew} on`));
      break;
    case 'contract':
      results.push(everyInstance('write-old-flag-off-seen', instances, (i) => i.flags[flags.writeOld] === false, `see ${flags.writeOld} off`));
      results.push({
        gate: 'no-old-fields-left',
        ok: input.counts.withOldFields === 0,
        detail: `${input.counts.withOldFields} document(s) still carry ${def.removedFields?.join(', ')}`,
      });
      break;
    case 'complete':
    case 'rolled-back':
      results.push({ gate: 'not-terminal', ok: false, detail: `${phase} is a final phase` });
      break;
  }
  return results;
}

/** Thrown when an advance is refused; names each failing gate. */
export class GateRefusedError extends Error {
  constructor(
    readonly migrationId: string,
    readonly phase: Phase,
    readonly failing: GateResult[],
  ) {
    super(
      `Cannot leave ${phase} for ${migrationId}; failing gate(s):\n` +
        failing.map((g) => `  - ${g.gate}: ${g.detail}`).join('\n'),
    );
    this.name = 'GateRefusedError';
  }
}
