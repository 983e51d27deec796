import { MigrationDefinition, strategyOf } from '@zdm/migrations-core';
import { createMongoControlStore } from '@zdm/migrations-mongo';
import type { mongo } from 'mongoose';
import type { LoadResultMessage } from './load.protocol';
import type { MigrationRecord, QuarantineRecord, ServiceFacts } from './report';
import { DemoService, finalVersionOf, removedFieldsOf } from './services/demo.service';
import type { Timeline } from './timeline';
import { documentCensus, readBack } from './verification';

/** What {@link serviceProof} needs besides the service: where it runs and what the run did. */
export interface ProofContext {
  /** The service's database (data and control store). */
  db: mongo.Db;
  /** The load balancer, as any client reaches it. */
  lbUrl: string;
  load: LoadResultMessage;
  timeline: Timeline;
  builds: ServiceFacts['builds'];
  /** What the fix path did with quarantined documents during the run (the open count is taken here). */
  quarantine: QuarantineRecord;
}

/**
 * One service's proof, as every story of the demo draws it: every acknowledged write read back
 * through the load balancer, the documents counted in the service's database, the quarantine still
 * open, and the phases its migrations went through.
 */
export async function serviceProof(s: DemoService, c: ProofContext): Promise<ServiceFacts> {
  const t = c.timeline;
  const finalVersion = finalVersionOf(s);
  const acked = c.load.services[s.name]?.acked ?? [];
  const back = await t.stage(`${s.name}: read back every acknowledged write through the load balancer`, () => readBack(c.lbUrl, acked, { resource: s.name, check: s.check }));
  const census = await t.stage(`${s.name}: count documents in the database`, () => documentCensus(c.db, s.collection, finalVersion, removedFieldsOf(s)));
  const store = createMongoControlStore(c.db);
  let open = 0;
  for (const def of s.migrations) open += await store.quarantine.count(def.id);
  return {
    name: s.name,
    builds: c.builds,
    migrations: migrationRecords(s.migrations, t.phasesOf(s.name)),
    phases: t.phasesOf(s.name),
    readBack: back,
    census,
    finalVersion,
    quarantine: { ...c.quarantine, open },
    inconsistency: s.inconsistency,
  };
}

/** The report's record of each migration: its strategy, versions and the phases it went through. */
export function migrationRecords(defs: readonly MigrationDefinition[], phases: Timeline['phases']): MigrationRecord[] {
  return defs.map((d) => ({
    id: d.id,
    strategy: JSON.stringify(strategyOf(d)),
    from: d.from,
    to: d.to,
    removedFields: [...(d.removedFields ?? [])],
    phases: phases.filter((p) => p.migration === d.id),
  }));
}
