import { contractStep, unexpandStep } from './job-steps';
import { MigrationDefinition } from './migration.types';
import { MigrationBackend } from './migrator';
import { ControlStore } from './store.contract';

/**
 * One {@link MigrationBackend} over several stores, for a service whose data lives in more than
 * one (documents in MongoDB, sessions in Redis): each migration goes to the backend of its target's
 * kind, and every one shares `store`, the service's one control store (heartbeats, phases, leases).
 * Give each backend that same store.
 */
export function routeByTargetKind(store: ControlStore, backends: Record<string, MigrationBackend>): MigrationBackend {
  const pick = (def: MigrationDefinition): MigrationBackend => {
    const backend = backends[def.target.kind];
    if (!backend) throw new Error(`${def.id}: no backend for ${def.target.kind} targets here (only ${Object.keys(backends).join(', ')})`);
    return backend;
  };
  return {
    store,
    counts: (def) => pick(def).counts(def),
    target: (def, job) => pick(def).target(def, job),
    sample: (def, size) => pick(def).sample(def, size),
    unexpandStep: (def) => pick(def).unexpandStep?.(def) ?? unexpandStep(def),
    contractStep: (def) => pick(def).contractStep?.(def) ?? contractStep(def),
    async clearUndo(migrationId) {
      let cleared = 0;
      for (const backend of Object.values(backends)) cleared += (await backend.clearUndo?.(migrationId)) ?? 0;
      return cleared;
    },
  };
}
