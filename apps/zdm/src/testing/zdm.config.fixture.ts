import { writeFileSync } from 'node:fs';
import {
  ControlStore,
  FlagAdmin,
  InstanceHeartbeat,
  MigrationDefinition,
  Phase,
  RunnerCommand,
  checksumOf,
  createInMemoryControlStore,
  flagNames,
  flagsForPhase,
} from '@zdm/migrations-core';
import { InMemoryBackend, fullNameMigration } from '@zdm/migrations-core/testing';
import { ZdmConfig, defineConfig } from '../config';

/** What a test sets up before the CLI connects. Passed to child processes as JSON in `ZDM_FIXTURE`. */
export interface FixtureScenario {
  /** v1 customers to seed. Default 300. */
  docs?: number;
  /** How many of them lack `lastName`, so `up` throws and they are quarantined. Default 0. */
  bad?: number;
  /** Phase stored for `customers.full-name` before the command runs. Default: none stored (pending). */
  phase?: Phase;
  /** Operator command stored with the phase. Default `run`. */
  command?: RunnerCommand;
  /** Live instances: `new` reads v1..v2, `old` reads only v1. Their flags follow the flag admin. */
  instances?: ('new' | 'old')[];
  /** Quarantine entries to seed: for the bad documents, or for documents that are fine by now. */
  quarantine?: 'bad' | 'fixed';
  /** Registers an extra migration that breaks the chain (2 -> 4). */
  invalid?: boolean;
  /** Registers the migration without `down()`. */
  irreversible?: boolean;
  /** Checksum stored with the phase, as if another definition had been applied. Default: the real one. */
  checksum?: string;
  /** First batch size of runners. Default 50. */
  batchSize?: number;
  /** Extra pause between batches in ms (to interrupt a run). Default 0. */
  pauseMs?: number;
  /** Writes `{ before, after }` dumps of the control store and the data to this file. */
  dumpFile?: string;
}

const SERVICE = 'customers';
const COLLECTION = 'customers';

/** customers: firstName + lastName -> fullName (v1 -> v2), reversible, with verify: the shared reference migration. */
export const fullName = fullNameMigration({ service: SERVICE, collection: COLLECTION });

/** Flags held in memory; every simulated instance sees a change at once and beats again. */
export class FixtureFlags implements FlagAdmin {
  readonly values: Record<string, boolean>;
  constructor(
    initial: Record<string, boolean>,
    private readonly onChange: () => Promise<void>,
  ) {
    this.values = { ...initial };
  }
  async set(flag: string, enabled: boolean): Promise<void> {
    this.values[flag] = enabled;
    await this.onChange();
  }
  /** Reads a flag back, as Unleash's admin client can; null when it was never set. */
  async get(flag: string): Promise<boolean | null> {
    return flag in this.values ? this.values[flag] : null;
  }
}

/** Everything a test may look at after running commands in-process. */
export interface Fixture {
  config: ZdmConfig;
  backend: InMemoryBackend;
  store: ControlStore;
  flags: FixtureFlags;
  /** How many times the CLI connected and closed. */
  connections: { opened: number; closed: number };
}

/** Serializable view of the whole control store and the data, to prove a command wrote nothing. */
export async function dumpFixture(store: ControlStore, backend: InMemoryBackend, defs: readonly MigrationDefinition[]) {
  const jobs = ['backfill', 'verify', 'contract', 'down', 'unexpand'];
  const perMigration = await Promise.all(
    defs.map(async (d) => ({
      id: d.id,
      audit: await store.audit.list(d.id),
      quarantine: await store.quarantine.list(d.id),
      checkpoints: await Promise.all(jobs.map((j) => store.leases.readCheckpoint(`${d.id}:${j}`))),
    })),
  );
  return JSON.parse(JSON.stringify({ states: await store.state.list(), perMigration, heartbeats: await store.heartbeats.live(), data: backend.dump() }));
}

/** Builds the in-memory world of a scenario; it is seeded on the first `connect()`. */
export function createFixture(scenario: FixtureScenario = {}): Fixture {
  const store = createInMemoryControlStore();
  const backend = new InMemoryBackend({ store });
  const def: MigrationDefinition = { ...fullName, ...(scenario.irreversible ? { down: undefined } : {}) };
  const migrations = [def];
  if (scenario.invalid) migrations.push({ ...def, id: 'customers.broken', from: 2, to: 4 });
  const f = flagNames(fullName.id);
  const beat = async () => {
    for (const [n, kind] of (scenario.instances ?? []).entries()) {
      const hb: InstanceHeartbeat = {
        service: SERVICE,
        instanceId: `${SERVICE}-${n + 1}`,
        build: kind === 'new' ? 'build-v2' : 'build-v1',
        schemas: { [COLLECTION]: kind === 'new' ? { readMin: 1, readMax: 2, writes: flags.values[f.writeNew] ? 2 : 1 } : { readMin: 1, readMax: 1, writes: 1 } },
        flags: kind === 'new' ? { ...flags.values } : {},
        at: new Date(),
      };
      await store.heartbeats.beat(hb, 3_600_000);
    }
  };
  const flags = new FixtureFlags(flagsForPhase(def, scenario.phase ?? 'pending'), beat);
  const connections = { opened: 0, closed: 0 };
  let before: unknown = null;

  const seed = async () => {
    const bad = scenario.bad ?? 0;
    for (let i = 0; i < (scenario.docs ?? 300); i++) {
      const id = `c${String(i).padStart(6, '0')}`;
      backend.insert(COLLECTION, id, i < bad ? { firstName: `F${i}` } : { firstName: `F${i}`, lastName: `L${i}` });
      if (scenario.quarantine && i < Math.max(bad, 3)) {
        await store.quarantine.put({ migrationId: fullName.id, docId: id, reason: 'up threw: lastName is missing', stage: 'backfill', at: new Date() });
      }
    }
    if (scenario.phase) {
      await store.state.save({ id: def.id, phase: scenario.phase, revision: 0, checksum: scenario.checksum ?? checksumOf(def), command: scenario.command ?? 'run', backfillDoneAt: null, verify: null, updatedAt: new Date() }, 0);
    }
    await beat();
  };

  const config = defineConfig({
    service: SERVICE,
    migrations,
    throttle: { initialBatchSize: scenario.batchSize ?? 50, minBatchSize: 10, maxBatchSize: scenario.batchSize ?? 50, basePauseMs: scenario.pauseMs ?? 0 },
    leaseTtlMs: 5_000,
    connect: async () => {
      if (connections.opened++ === 0) await seed();
      if (scenario.dumpFile) {
        before = await dumpFixture(store, backend, migrations);
        writeFileSync(scenario.dumpFile, JSON.stringify({ before }));
      }
      return {
        backend,
        flags,
        close: async () => {
          connections.closed++;
          if (scenario.dumpFile) writeFileSync(scenario.dumpFile, JSON.stringify({ before, after: await dumpFixture(store, backend, migrations) }));
        },
      };
    },
  });
  return { config, backend, store, flags, connections };
}

/** The config a child process loads: the scenario comes from `ZDM_FIXTURE`. */
export default function fixtureConfig(): ZdmConfig {
  return createFixture(JSON.parse(process.env['ZDM_FIXTURE'] ?? '{}') as FixtureScenario).config;
}
