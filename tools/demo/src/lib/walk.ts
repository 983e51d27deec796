import type { MigrationDefinition } from '@zdm/migrations-core';
import type { QuarantineRecord } from './report';
import type { DemoService } from './services/demo.service';
import type { ZdmDriver, ZdmOutcome } from './zdm.driver';

/** `zdm`'s exit code when documents are quarantined (apps/zdm/src/lib/exit-codes.ts). */
export const QUARANTINE_EXIT = 6;

/** Adds what one fix did to a service's quarantine record. */
export function recordFix(record: QuarantineRecord, fix: { found: number; fixed: number; reasons: Record<string, number> }): void {
  record.found += fix.found;
  record.fixed += fix.fixed;
  for (const [reason, count] of Object.entries(fix.reasons)) record.reasons[reason] = (record.reasons[reason] ?? 0) + count;
}

/**
 * Whether a `zdm run` that ended with `outcome` stopped on quarantined documents that the service
 * can fix; if so, runs the service's fix path (`zdm quarantine`) and records it, so the caller runs
 * `zdm run` again.
 */
export async function fixedQuarantine(
  outcome: ZdmOutcome,
  spec: DemoService,
  def: MigrationDefinition,
  zdm: ZdmDriver,
  record: QuarantineRecord,
  context: { db: Parameters<NonNullable<DemoService['fixQuarantine']>>[0]['db']; log: (line: string) => void },
): Promise<boolean> {
  if (outcome.exitCode !== QUARANTINE_EXIT || !spec.fixQuarantine) return false;
  recordFix(record, await spec.fixQuarantine({ zdm, migration: def.id, db: context.db, log: context.log }));
  return true;
}

/** `zdm run` to complete, through the service's quarantine fix path when the run stops on quarantined documents (at most `attempts` runs). */
export async function walkFixingQuarantine(
  zdm: ZdmDriver,
  spec: DemoService,
  def: MigrationDefinition,
  record: QuarantineRecord,
  context: { db: Parameters<NonNullable<DemoService['fixQuarantine']>>[0]['db']; log: (line: string) => void; timeoutSec?: number },
  attempts = 4,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const run = zdm.start(['run', def.id, '--poll', '0.5', '--timeout', String(context.timeoutSec ?? 300)], attempt === 1 ? `walk ${def.id} to complete` : `resume ${def.id} after the quarantine fix`);
    const outcome = await run.done;
    if (outcome.exitCode === 0 && outcome.result?.['ok'] !== false) return;
    if (attempt < attempts && (await fixedQuarantine(outcome, spec, def, zdm, record, context))) continue;
    throw new Error(`zdm run ${def.id} exited ${outcome.exitCode ?? outcome.signal}: ${String(outcome.result?.['error'] ?? `see ${run.proc.logFile}`)}`);
  }
}
