import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type Redis from 'ioredis';
import { JobTarget, MigrationDefinition, MigrationRegistry, Migrator, RunResult, ThrottleOptions } from '@zdm/migrations-core';
import { expiryDrift, seedSessions, sessionKey, sessionMigration, sessionV1 } from '../test/sessions.fixture';
import { startTestRedis, TestRedis } from '../test/redis-server.fixture';
import { createRedisBackend } from './redis.backend';
import { versionedGet, versionedSet } from './versioned-value';

const KEYS = 100_000;
const CHILD_BATCH = 1_000;
const CHILD_LEASE_MS = 1_500;
const root = resolve(__dirname, '../../../../..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

jest.setTimeout(60_000);

/**
 * One keyspace migration over 100k keys, in the order an operator would live it: a run stopped by
 * its signal, a resumed run SIGKILLed mid-way, and a resumed run under a concurrent writer.
 */
describe('a 100k-key keyspace migration (redis-server)', () => {
  let server: TestRedis;
  let redis: Redis;
  let writerRedis: Redis;
  let prefix: string;
  let def: MigrationDefinition;
  let registry: MigrationRegistry;
  let expiries: Map<string, number>;
  const timings: Record<string, string> = {};

  const backend = () => createRedisBackend({ redis, controlPrefix: `${prefix}zdm:` });
  const migrator = (throttle: ThrottleOptions, owner: string, wrap?: (t: JobTarget) => JobTarget) => {
    const base = backend();
    const wrapped = wrap ? { ...base, target: (d: MigrationDefinition, job: Parameters<typeof base.target>[1]) => wrap(base.target(d, job)) } : base;
    return new Migrator({ registry, backend: wrapped, throttle, leaseTtlMs: 5_000, owner });
  };
  const checkpoint = () => migrator({}, 'reader').store.leases.readCheckpoint(`${def.id}:backfill`);

  beforeAll(async () => {
    server = await startTestRedis('keyspace-100k');
    redis = server.client();
    writerRedis = server.client();
    prefix = server.prefix;
    def = sessionMigration(prefix, 'value');
    registry = MigrationRegistry.create([def]);
    const started = performance.now();
    expiries = await seedSessions(redis, prefix, KEYS);
    timings['seed 100k keys'] = `${Math.round(performance.now() - started)} ms`;
  });
  afterAll(async () => {
    console.log(`100k keyspace figures:\n${Object.entries(timings).map(([k, v]) => `  ${k}: ${v}`).join('\n')}`);
    await server.stop();
  });

  it('stops between batches when its signal fires, leaving a checkpoint after the last finished batch', async () => {
    const abort = new AbortController();
    let read = 0;
    const result = await migrator({ initialBatchSize: 1_000, minBatchSize: 1_000, maxBatchSize: 1_000 }, 'runner-1').run(def.id, 'backfill', {
      signal: abort.signal,
      onBatch: (e) => {
        read += e.read;
        if (e.batch === 5) abort.abort();
      },
    });
    expect(result.status).toBe('stopped');
    expect(result.checkpoint).toMatchObject({ batches: 5, processed: read, written: read, done: false });
    expect(result.checkpoint.cursor).not.toBeNull();
    expect(await checkpoint()).toMatchObject({ batches: 5, processed: read });
    expect((await backend().counts(def)).belowTarget).toBe(KEYS - read);
  });

  let killedCheckpointProcessed = 0;
  let childMaxRead = 0;
  let inFlightWritten = 0;

  it('resumes after the stop without re-reading a finished key, and leaves a checkpoint when SIGKILLed mid-way', async () => {
    const before = await checkpoint();
    const child = spawn(resolve(root, 'node_modules/.bin/node'), ['-r', '@swc-node/register', resolve(__dirname, '../test/backfill-child.fixture.ts')], {
      cwd: root,
      env: {
        ...process.env,
        SWC_NODE_PROJECT: resolve(root, 'tsconfig.base.json'),
        REDIS_URL: server.url,
        ZDM_PREFIX: prefix,
        ZDM_BATCH: String(CHILD_BATCH),
        ZDM_LEASE_MS: String(CHILD_LEASE_MS),
        ZDM_OWNER: 'child-runner',
        ZDM_WRITE_PAUSE_MS: '300',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (d) => (stderr += String(d)));
    const exited = new Promise<NodeJS.Signals | number | null>((r) => child.once('exit', (code, signal) => r(signal ?? code)));
    const batches: { batch: number; read: number; skipped: number }[] = [];
    for await (const line of createInterface({ input: child.stdout as NodeJS.ReadableStream })) {
      const event = JSON.parse(line);
      if ('read' in event && !('batch' in event)) childMaxRead = Math.max(childMaxRead, event.read);
      if ('batch' in event) batches.push(event);
      // Killed after the sixth batch was written and before its checkpoint.
      if ('wrote' in event && batches.length === 5) {
        inFlightWritten = event.wrote;
        child.kill('SIGKILL');
      }
      if ('status' in event) throw new Error(`the child finished before it was killed: ${line}`);
    }
    expect(await exited).toBe('SIGKILL');
    expect(stderr).toBe('');
    // It started right after the stopped run's cursor: nothing it read was already migrated.
    expect(batches[0].batch).toBe((before?.batches ?? 0) + 1);
    expect(batches.reduce((n, b) => n + b.skipped, 0)).toBe(0);
    const after = await checkpoint();
    expect(after?.batches).toBe((before?.batches ?? 0) + 5);
    expect(inFlightWritten).toBeGreaterThan(0);
    expect(after?.done).toBe(false);
    killedCheckpointProcessed = after?.processed ?? 0;
  });

  it('resumes after the kill re-processing at most one batch, never overwrites a concurrent write, and keeps every TTL', async () => {
    // A writer updates random keys during the run, half as old-build v1 writes and half as v2 dual-writes.
    // It starts once the runner has read its first batch, so that batch shows what the kill left.
    const lastWritten = new Map<string, number>();
    let writing = true;
    let writes = 0;
    let startWriter = () => undefined as void;
    const firstBatchRead = new Promise<void>((r) => (startWriter = r));
    const writer = (async () => {
      await firstBatchRead;
      for (let n = 1; writing; n++) {
        const round: Promise<void>[] = [];
        for (let j = 0; j < 20; j++) {
          const i = Math.floor(Math.random() * KEYS);
          const key = sessionKey(prefix, i);
          const v2 = (n + j) % 2 === 0;
          const doc = v2 ? { ...sessionV1(i), fullName: `f${i} l${i}`, n: n * 100 + j } : { ...sessionV1(i), n: n * 100 + j };
          round.push(versionedSet(writerRedis, key, doc, { registry, writeVersion: v2 ? 2 : 1 }));
          lastWritten.set(key, n * 100 + j);
        }
        await Promise.all(round);
        writes += round.length;
        await sleep(2);
      }
    })();

    // Record what the first pass reads: it must start at the checkpoint and see few migrated keys.
    const firstPass = new Map<string, boolean>();
    let firstCursor: string | null | undefined;
    let inFirstPass = true;
    const observe = (t: JobTarget): JobTarget => ({
      ...t,
      readBatch: async (cursor, limit) => {
        if (firstCursor === undefined) firstCursor = cursor;
        const page = await t.readBatch(cursor, limit);
        if (inFirstPass) for (const item of page.items) firstPass.set(item.id, item.version >= 2 && !('n' in item.doc));
        if (page.done) inFirstPass = false;
        startWriter();
        return page;
      },
    });
    const resumeFrom = await checkpoint();
    const runner = migrator({ initialBatchSize: 500, maxBatchSize: 2_000 }, 'runner-3', observe);
    let result: RunResult;
    const started = performance.now();
    for (;;) {
      // The killed child still holds its lease until it expires.
      result = await runner.run(def.id, 'backfill', {
        onBatch: (e) => {
          if (e.progress.done >= KEYS * 0.8) writing = false;
        },
      });
      if (result.status !== 'lease-held') break;
      await sleep(100);
    }
    writing = false;
    startWriter();
    await writer;
    const seconds = (performance.now() - started) / 1000;
    const processed = result.checkpoint.processed - (resumeFrom?.processed ?? 0);
    timings['backfill after kill (with writer)'] = `${processed} keys in ${seconds.toFixed(2)} s = ${Math.round(processed / seconds)} keys/s, ${writes} concurrent writes, ${result.checkpoint.conflicts} conflicts, ${result.checkpoint.batches} batches in total`;

    expect(result.status).toBe('done');
    expect(result.token).toBe(3);
    expect(firstCursor).toBe(resumeFrom?.cursor);
    const reprocessed = [...firstPass.values()].filter(Boolean).length;
    timings['re-processed after SIGKILL'] = `${reprocessed} keys (the killed batch wrote ${inFlightWritten}; batches up to ${childMaxRead} keys)`;
    // At most the keys of the batch written but not checkpointed when the kill landed. Fewer when
    // the concurrent writer rewrote one of them first (then it is the writer's value, not a redo).
    expect(reprocessed).toBeLessThanOrEqual(inFlightWritten);
    if (inFlightWritten > 0) expect(reprocessed).toBeGreaterThan(0);
    expect(reprocessed).toBeLessThanOrEqual(childMaxRead);
    expect(firstPass.size + killedCheckpointProcessed).toBe(KEYS);

    const counts = await backend().counts(def);
    expect(counts).toEqual({ belowTarget: 0, withOldFields: KEYS, quarantined: 0 });

    const contractStarted = performance.now();
    const contract = await migrator({ initialBatchSize: 500, maxBatchSize: 2_000 }, 'runner-4').run(def.id, 'contract');
    const contractSeconds = (performance.now() - contractStarted) / 1000;
    timings['contract (no writer)'] = `${contract.checkpoint.written} keys in ${contractSeconds.toFixed(2)} s = ${Math.round(KEYS / contractSeconds)} keys/s`;
    expect(contract.checkpoint).toMatchObject({ written: KEYS, conflicts: 0 });

    // Every value a writer acknowledged is still there (migrated, never replaced by a stale copy).
    const lost: string[] = [];
    for (const [key, n] of lastWritten) {
      const value = await versionedGet(redis, key, { registry, readMax: 2 });
      if (value?.doc['n'] !== n || value.storedVersion !== 2) lost.push(`${key}: wrote n=${n}, found ${JSON.stringify(value)}`);
    }
    expect(lost).toEqual([]);
    expect(await expiryDrift(redis, expiries, 1_000)).toEqual([]);
  });
});
