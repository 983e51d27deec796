/**
 * Runs the fixture backfill in its own process, so a test can SIGKILL it mid-way.
 * Env: REDIS_URL, ZDM_PREFIX, ZDM_BATCH (fixed batch size), ZDM_LEASE_MS, ZDM_OWNER, ZDM_WRITE_PAUSE_MS.
 * Prints one JSON line per batch read (`{"read":n}`), per write (`{"wrote":n}`), per checkpointed
 * batch (`{"batch":...}`), and at the end.
 */
import Redis from 'ioredis';
import { MigrationDefinition, MigrationRegistry, Migrator } from '@zdm/migrations-core';
import { createRedisBackend } from '../lib/redis.backend';
import { sessionMigration } from './sessions.fixture';

const print = (line: unknown) => process.stdout.write(`${JSON.stringify(line)}\n`);

async function main() {
  const env = (name: string) => {
    const v = process.env[name];
    if (!v) throw new Error(`${name} is required`);
    return v;
  };
  const redis = new Redis(env('REDIS_URL'));
  const prefix = env('ZDM_PREFIX');
  const batch = Number(env('ZDM_BATCH'));
  const def = sessionMigration(prefix, 'value');
  const base = createRedisBackend({ redis, controlPrefix: `${prefix}zdm:` });
  const backend = {
    ...base,
    target: (d: MigrationDefinition, job: Parameters<typeof base.target>[1]) => {
      const t = base.target(d, job);
      return {
        ...t,
        readBatch: async (cursor: string | null, limit: number) => {
          const page = await t.readBatch(cursor, limit);
          print({ read: page.items.length });
          return page;
        },
        // Reports each write, then lingers before the checkpoint so a kill can land between the two.
        writeBatch: async (changes: Parameters<typeof t.writeBatch>[0]) => {
          const result = await t.writeBatch(changes);
          print({ wrote: changes.length - result.conflicts.length });
          await new Promise((r) => setTimeout(r, Number(process.env['ZDM_WRITE_PAUSE_MS'] ?? 0)));
          return result;
        },
      };
    },
  };
  const migrator = new Migrator({
    registry: MigrationRegistry.create([def]),
    backend,
    throttle: { initialBatchSize: batch, minBatchSize: batch, maxBatchSize: batch },
    leaseTtlMs: Number(env('ZDM_LEASE_MS')),
    owner: env('ZDM_OWNER'),
  });
  const result = await migrator.run(def.id, 'backfill', {
    onBatch: (e) => print({ batch: e.batch, read: e.read, written: e.written, skipped: e.skipped }),
  });
  print({ status: result.status, checkpoint: result.checkpoint });
  await redis.quit();
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
