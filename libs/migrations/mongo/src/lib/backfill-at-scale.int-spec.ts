import { fullNameMigration, waitFor } from '@zdm/migrations-core/testing';
import { Doc } from '@zdm/migrations-core';
import { isDeepStrictEqual } from 'node:util';
import { mongo } from 'mongoose';
import { childMigrationId } from '../test/child-migrations.fixture';
import { seedCustomers } from '../test/customers.fixture';
import { sizeFor, useTestMongo } from '../test/ferretdb.fixture';
import {
  AckedWrite,
  ConcurrentWriter,
  JobChild,
  JobLine,
  LeaseRecord,
  backfillLease,
  inBackfillPhase,
  leaseExpiry,
  readAll,
  seedKept,
  seededRandom,
  sleep,
  startJobChild,
} from '../test/job-child.fixture';
import { createDocumentWriter } from './document.writer';

/**
 * Documents of the big run. `npm test` runs 20000, which fits the CI budget; `npm run test:scale`
 * runs the full 200000 (12 min on FerretDB with 2 cores: the backfill at about 310 docs/s). On the
 * atomic server (ZDM_MONGO_SERVER=atomic), which scans for every compare-and-set, 3000.
 */
const N = Number(process.env['ZDM_SCALE_DOCS'] ?? sizeFor(20_000, 3000));
/** Seed of the writer's and the kills' randomness; printed in the summary so a failure can be replayed. */
const SEED = Number(process.env['ZDM_SCALE_SEED'] ?? Date.now() % 2 ** 31);
/** Documents per batch, fixed in the child runner (`--batch`); pauses between batches are capped at 250 ms. Enough batches for 3 kills at 10-25% of the walk. */
const BATCH = Number(process.env['ZDM_SCALE_BATCH'] ?? sizeFor(500, 100));
const KILLS = 3;
const MIN_WRITES_PER_SEC = 50;
/** The writer aims a little above the required rate, so that slow moments do not sink the average. */
const WRITER_RATE = 75;
const FENCE_DOCS = Math.min(5000, N);

// About 3.3 ms per document here (646 s for the 200000-document backfill); 15 ms leaves room for a busy machine.
jest.setTimeout(Math.max(600_000, N * 15));

const server = useTestMongo('backfill-at-scale');
const figures: string[] = [];
afterAll(() => console.log(`backfill-at-scale (seed ${SEED}): ${figures.join('; ')}`));

const seconds = (since: number) => (performance.now() - since) / 1000;
const num = (line: JobLine | undefined, field: string): number => Number(line?.[field]);
const hex = (doc: Doc) => (doc['_id'] as mongo.ObjectId).toHexString();

/** What the document must be after the backfill: `up()` of the seed, with the writer's last acknowledged names. */
function expectedAfter(seed: Doc, acked: AckedWrite | undefined): Doc {
  const doc: Doc = { ...seed, _v: 2 };
  if (acked) Object.assign(doc, { firstName: acked.firstName, email: acked.email, _rev: acked.writes });
  doc['fullName'] = `${String(doc['firstName'])} ${String(doc['lastName'])}`;
  return doc;
}

/** One SIGKILL: the killed child's last line, the checkpoint it left, and what it wrote past that checkpoint. */
interface Kill {
  last: JobLine;
  checkpoint: NonNullable<LeaseRecord['checkpoint']>;
  /** Documents at v2 among the `2 * BATCH` after the checkpoint cursor: written by the killed child's unfinished batch. */
  writtenPast: number;
  /** Of those, any beyond the first `BATCH` (there must be none: one batch is in flight at most). */
  writtenBeyondOneBatch: number;
  next: JobChild;
}

describe(`the mongo backfill at scale: ${N} documents in a child runner`, () => {
  it('keeps every acknowledged write of a concurrent writer at >= 50 writes/s through 3 SIGKILLs, re-processes at most one batch per kill, and ends equal to an uninterrupted run', async () => {
    const collection = 'scale_customers';
    const customers = server.db.collection(collection);
    const def = fullNameMigration({ collection, id: childMigrationId(collection) });
    const random = seededRandom(SEED);

    let since = performance.now();
    const seed = await seedKept(customers, N);
    await inBackfillPhase(server, collection);
    figures.push(`${N} docs seeded in ${seconds(since).toFixed(1)} s`);
    const sortedIds = seed.map(hex);
    const documentWriter = createDocumentWriter(server.db);
    const writer = new ConcurrentWriter(customers, documentWriter, seed.map((d) => d['_id'] as mongo.ObjectId), random);

    /** v2 documents among the 2 batches after `cursor` in `_id` order, looked up one by one by `_id`. */
    const writtenAfter = async (cursor: string | null) => {
      const from = cursor === null ? 0 : sortedIds.indexOf(cursor) + 1;
      const flags: boolean[] = [];
      for (const id of sortedIds.slice(from, from + 2 * BATCH)) {
        const doc = await customers.findOne({ _id: mongo.ObjectId.createFromHexString(id) }, { projection: { _v: 1 } });
        flags.push(doc?.['_v'] === 2);
      }
      return { within: flags.slice(0, BATCH).filter(Boolean).length, beyond: flags.slice(BATCH).filter(Boolean).length };
    };

    // The runner renews its lease in the background while it reads a page (the first page of the walk
    // sorts the whole collection on FerretDB: 11-30 s at 200000), so a short lease is enough, and a
    // killed runner's successor waits no more than that.
    const args = ['--batch', String(BATCH), '--lease-ms', '5000', '--max-pause-ms', '250'];
    const walk = Math.ceil(N / BATCH);
    // Each child is killed somewhere in its 10%..25% of the walk, so the last one has the rest to do.
    const killAfter = Array.from({ length: KILLS }, () => Math.max(1, Math.floor(walk * (0.1 + 0.15 * random()))));
    const kills: Kill[] = [];
    since = performance.now();
    writer.start(WRITER_RATE);
    let child = startJobChild(server, collection, 'runner-0', args);
    for (let k = 0; k < KILLS; k++) {
      await waitFor(`batch line ${killAfter[k]} of runner-${k}`, () => child.batches().length >= killAfter[k] || child.ended(), Math.max(120_000, N * 10), 10);
      expect(child.ended()).toBe(false);
      // Somewhere inside the next batch.
      await sleep(random() * num(child.batches().at(-1), 'latencyMs'));
      child.proc.kill('SIGKILL');
      expect(await child.exit).toBeNull();
      const last = child.batches().at(-1) as JobLine;
      const { checkpoint } = await backfillLease(server.db, collection);
      if (!checkpoint) throw new Error(`runner-${k} left no checkpoint`);
      const past = await writtenAfter(checkpoint.cursor);
      await leaseExpiry(server.db, collection);
      child = startJobChild(server, collection, `runner-${k + 1}`, args);
      kills.push({ last, checkpoint, writtenPast: past.within, writtenBeyondOneBatch: past.beyond, next: child });
    }
    expect(await child.exit).toBe(0);
    const backfillSec = seconds(since);
    const writes = writer.writes;
    await writer.stop();
    const rate = writes / backfillSec;
    const final = child.result() as JobLine & { checkpoint: { written: number; processed: number } };

    since = performance.now();
    const stored = await readAll(customers);
    const readSec = seconds(since);
    const wrong = seed.filter((s) => !isDeepStrictEqual(stored.get(hex(s)), expectedAfter(s, writer.acked.get(hex(s)))));
    const lost = [...writer.acked].filter(([id, w]) => {
      const doc = stored.get(id);
      return doc?.['firstName'] !== w.firstName || doc['email'] !== w.email || doc['_rev'] !== w.writes;
    });
    const belowTarget = [...stored.values()].filter((d) => d['_v'] !== 2).length;
    const mismatches = [...stored.values()].filter((d) => d['fullName'] !== `${d['firstName']} ${d['lastName']}` || def.verify?.(d) !== true).length;
    const reprocessed = kills.map((k) => k.writtenPast);
    figures.push(
      `backfill ${backfillSec.toFixed(1)} s in ${KILLS + 1} children (${(N / backfillSec).toFixed(0)} docs/s, final checkpoint written ${final.checkpoint.written} + ${reprocessed.reduce((a, b) => a + b, 0)} past kills)`,
      `writer ${writes} writes = ${rate.toFixed(1)}/s to ${writer.acked.size} docs, ${writer.busy} given up (${(await documentWriter.mode()) === 'claims' ? 'claim held by another writer' : 'compare-and-set conflict'})`,
      `${KILLS} SIGKILLs after batches ${kills.map((k) => num(k.last, 'batch')).join(', ')}; written past the checkpoint per kill ${reprocessed.join(', ')} (batch ${BATCH})`,
      `final read ${readSec.toFixed(1)} s; lost ${lost.length}, below v2 ${belowTarget}, verify mismatches ${mismatches}, differing from the uninterrupted result ${wrong.length}`,
    );

    expect(final).toMatchObject({ status: 'done', token: KILLS + 1 });
    for (const kill of kills) {
      const first = kill.next.batches()[0];
      // The checkpoint holds every batch the killed child printed, plus at most the one it wrote but had not printed yet.
      expect(kill.checkpoint.batches - num(kill.last, 'batch')).toBeGreaterThanOrEqual(0);
      expect(kill.checkpoint.batches - num(kill.last, 'batch')).toBeLessThanOrEqual(1);
      expect(kill.checkpoint.processed - num(kill.last, 'done')).toBeLessThanOrEqual(BATCH);
      // The next child starts exactly there ...
      expect(num(first, 'batch')).toBe(kill.checkpoint.batches + 1);
      expect(num(first, 'done') - num(first, 'read')).toBe(kill.checkpoint.processed);
      // ... so it walks again only what the killed child did past it: one batch at most.
      expect(kill.writtenPast).toBeLessThanOrEqual(BATCH);
      expect(kill.writtenBeyondOneBatch).toBe(0);
    }
    // Every document was written to v2 by exactly one runner write: none twice, none missed.
    expect(final.checkpoint.written + reprocessed.reduce((a, b) => a + b, 0)).toBe(N);
    expect(rate).toBeGreaterThanOrEqual(MIN_WRITES_PER_SEC);
    expect(stored.size).toBe(N);
    expect(lost.map(([id]) => id)).toEqual([]);
    expect(belowTarget).toBe(0);
    expect(mismatches).toBe(0);
    expect(wrong.slice(0, 3).map((s) => ({ stored: stored.get(hex(s)), expected: expectedAfter(s, writer.acked.get(hex(s))) }))).toEqual([]);
  });

  it('lets exactly one of two runners started together work, and a runner frozen past its lease writes nothing once it wakes up', async () => {
    const collection = 'fenced_customers';
    const customers = server.db.collection(collection);
    await seedCustomers(customers, FENCE_DOCS);
    await inBackfillPhase(server, collection);
    // Batches of 250 spend less of the run in the throttle's pauses; 6 s outlasts such a batch on a busy machine.
    const short = ['--batch', '250', '--lease-ms', '6000'];
    const twins = [startJobChild(server, collection, 'twin-a', short), startJobChild(server, collection, 'twin-b', short)];
    await waitFor('a batch from either twin', () => twins.some((t) => t.batches().length > 0), 120_000, 10);
    const [winner, loser] = twins[0].batches().length ? twins : [twins[1], twins[0]];
    expect(await loser.exit).toBe(3);
    expect(loser.result()).toMatchObject({ status: 'lease-held', token: 0 });
    expect(loser.batches()).toEqual([]);

    await waitFor('three batches of the winner', () => winner.batches().length >= 3, 120_000, 10);
    // Frozen somewhere inside its fourth batch.
    await sleep(seededRandom(SEED)() * num(winner.batches().at(-1), 'latencyMs'));
    winner.proc.kill('SIGSTOP');
    const printedWhenFrozen = winner.lines.length;
    await leaseExpiry(server.db, collection);
    // The taker's lease outlives its own freeze below.
    const taker = startJobChild(server, collection, 'taker', ['--batch', '250', '--lease-ms', '60000']);
    await waitFor('three batches of the taker', () => taker.batches().length >= 3, 120_000, 10);
    taker.proc.kill('SIGSTOP');
    const before = await readAll(customers);
    const leaseBefore = await backfillLease(server.db, collection);

    winner.proc.kill('SIGCONT');
    expect(await winner.exit).toBe(3);
    const after = await readAll(customers);
    const changedAfterWaking = [...after].filter(([id, doc]) => !isDeepStrictEqual(doc, before.get(id))).map(([id]) => id);
    const leaseAfter = await backfillLease(server.db, collection);
    taker.proc.kill('SIGCONT');
    expect(await taker.exit).toBe(0);
    const below = [...(await readAll(customers)).values()].filter((d) => d['_v'] !== 2).length;
    figures.push(`fencing (${FENCE_DOCS} docs): twin exit ${await loser.exit} lease-held; frozen runner woke to ${String(winner.result()?.['status'])}, ${changedAfterWaking.length} documents changed after waking`);

    expect(winner.result()).toMatchObject({ status: 'lease-lost', token: 1 });
    expect(winner.lines.slice(printedWhenFrozen).filter((l) => l.event === 'batch')).toEqual([]);
    expect(changedAfterWaking).toEqual([]);
    expect(leaseAfter).toEqual(leaseBefore);
    expect(taker.result()).toMatchObject({ status: 'done', token: 2 });
    expect(below).toBe(0);
  });
});
