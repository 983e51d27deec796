/**
 * Runs the auth.session-keyspace backfill in its own process, so a test can SIGKILL it mid-way.
 * Env: REDIS_URL, SESSIONS_PREFIX (the deployment's key prefix), ZDM_BATCH (fixed batch size),
 * ZDM_LEASE_MS, ZDM_PAUSE_MS (pause after each write, before its checkpoint), ZDM_FREEZE_AFTER (after
 * that many checkpointed batches the process stops dead, waiting for its SIGKILL).
 * Prints one JSON line per checkpointed batch (`{"batch":n,"written":n}`) and one at the end.
 */
import { sessionKeyspaceMigration } from '@zdm/auth-domain';
import { MigrationDefinition, MigrationRegistry, Migrator } from '@zdm/migrations-core';
import { createRedisBackend } from '@zdm/migrations-redis';
import Redis from 'ioredis';

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is required`);
  return value;
};
const print = (line: unknown) => process.stdout.write(`${JSON.stringify(line)}\n`);

async function main() {
  const redis = new Redis(env('REDIS_URL'));
  const prefix = env('SESSIONS_PREFIX');
  const batch = Number(env('ZDM_BATCH'));
  const def = sessionKeyspaceMigration(prefix);
  const base = createRedisBackend({ redis, controlPrefix: `${prefix}zdm:` });
  const pause = Number(env('ZDM_PAUSE_MS'));
  const backend = {
    ...base,
    target: (d: MigrationDefinition, job: Parameters<typeof base.target>[1]) => {
      const t = base.target(d, job);
      return { ...t, writeBatch: async (changes: Parameters<typeof t.writeBatch>[0]) => ((r) => new Promise<typeof r>((ok) => setTimeout(() => ok(r), pause)))(await t.writeBatch(changes)) };
    },
  };
  const migrator = new Migrator({
    registry: MigrationRegistry.create([def]),
    backend,
    throttle: { initialBatchSize: batch, minBatchSize: batch, maxBatchSize: batch },
    leaseTtlMs: Number(env('ZDM_LEASE_MS')),
    owner: 'child-runner',
  });
  const freezeAfter = Number(env('ZDM_FREEZE_AFTER'));
  const result = await migrator.run(def.id, 'backfill', {
    onBatch: (e) => {
      print({ batch: e.batch, written: e.written });
      // Blocks the whole process (no timer, no lease renewal runs), so the kill lands after exactly this checkpoint.
      if (e.batch === freezeAfter) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60_000);
    },
  });
  print({ status: result.status });
  await redis.quit();
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
