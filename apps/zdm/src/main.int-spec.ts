import { checksumOf } from '@zdm/migrations-core';
import { integrationServices } from '@zdm/dev-services';
import { ExitCode } from './lib/exit-codes';
import { spawnZdm } from './testing/spawn-zdm.fixture';
import { Backing, BackingConnection, connectBacking, createMongoBackend, migrationFor } from './testing/backing.config.fixture';

/**
 * Documents per store. FerretDB 1.x (SQLite) pushes no filter but a lone `_id` down to SQLite, so
 * each compare-and-set write reads the collection up to its document: a backfill costs O(n²)
 * there (2,000 documents take minutes on 2 cores), where MongoDB and Redis stay linear.
 */
const DOCS_BY_BACKING: Record<Backing, number> = { redis: 2_000, mongo: 300 };

/**
 * `zdm plan` and `zdm start` as child processes against a real store through its adapter.
 * MongoDB runs only once `@zdm/migrations-mongo` exports createMongoBackend (until then it is skipped).
 */
function cliAgainst(backing: Backing, label: string) {
  const DOCS = DOCS_BY_BACKING[backing];
  const services = integrationServices([backing], {
    label: `zdm-cli-${backing}`,
  });
  let conn: BackingConnection;
  const env = (): Record<string, string> =>
    backing === 'mongo'
      ? {
          ZDM_BACKING: backing,
          MONGO_URL: services.mongo.url,
          ZDM_MONGO_DB: services.mongoDbName,
        }
      : {
          ZDM_BACKING: backing,
          REDIS_URL: services.redis.url,
          ZDM_REDIS_PREFIX: services.redisPrefix,
        };
  const zdm = (args: string[]) => spawnZdm(['--config', 'apps/zdm/src/testing/backing.config.fixture.ts', ...args], { env: env() });

  // Nested, so its afterAll runs before the outer one that stops the service.
  describe(`${DOCS} customers`, () => seeded());

  function seeded() {
    beforeAll(async () => {
      conn = await connectBacking(backing, env());
      await conn.seed(DOCS);
    }, 60_000);
    afterAll(async () => {
      await conn?.drop();
      await conn?.close();
    });

    it(`plan on ${label} reports every document as affected and writes nothing`, async () => {
      const def = migrationFor(backing, env());
      const before = await conn.snapshot();
      const run = await zdm(['plan', def.id]);
      expect(run.code).toBe(ExitCode.ok);
      expect(run.result['plans']).toEqual([
        expect.objectContaining({
          id: def.id,
          currentPhase: 'pending',
          affected: DOCS,
        }),
      ]);
      expect(await conn.snapshot()).toEqual(before);
    }, 60_000);

    it(`start on ${label} backfills every document with progress lines and exits 0`, async () => {
      const def = migrationFor(backing, env());
      const stored = {
        id: def.id,
        phase: 'backfill' as const,
        revision: 0,
        checksum: checksumOf(def),
        command: 'run' as const,
        backfillDoneAt: null,
        verify: null,
        updatedAt: new Date(),
      };
      expect(await conn.backend.store.state.save(stored, 0)).toBe(true);
      const run = await zdm(['start', def.id, '--json']);
      expect(run.code).toBe(ExitCode.ok);
      const progress = run.lines.filter((l) => l['event'] === 'progress');
      expect(progress.length).toBeGreaterThan(1);
      expect(progress[progress.length - 1]).toMatchObject({
        done: DOCS,
        total: DOCS,
      });
      expect(run.result).toMatchObject({
        status: 'done',
        written: DOCS,
        quarantineOpen: 0,
      });
      expect(await conn.migrated()).toBe(DOCS);
      console.info(`zdm start on ${label}: ${DOCS} documents, ${run.ms} ms with process start, ${run.result['elapsedMs']} ms in the runner`);
    }, 120_000);
  }
}

describe('zdm against redis-server through @zdm/migrations-redis', () => cliAgainst('redis', 'Redis'));
(createMongoBackend ? describe : describe.skip)('zdm against FerretDB through @zdm/migrations-mongo', () => cliAgainst('mongo', 'FerretDB'));
