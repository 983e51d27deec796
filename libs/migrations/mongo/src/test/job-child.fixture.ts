import { customerDoc, fullNameMigration, placeInPhase } from '@zdm/migrations-core/testing';
import { seededRandom } from '@zdm/dev-services';
export { seededRandom };
import { Doc } from '@zdm/migrations-core';
import { ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { mongo } from 'mongoose';
import { DocumentWriter, WriteConflictError } from '../lib/document.writer';
import { createMongoControlStore } from '../lib/mongo-control.store';
import { childMigrationId } from './child-migrations.fixture';
import { TestMongo } from './ferretdb.fixture';

const root = resolve(__dirname, '../../../../..');
const main = resolve(__dirname, '../bin/mongo-job.main.ts');
const migrations = resolve(__dirname, 'child-migrations.fixture.ts');

/** `ZDM_TRACE_JOBS=1`: every child's start and lines go to stderr with a timestamp (to see where a long run spends its time). */
const trace = !!process.env['ZDM_TRACE_JOBS'];

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One JSON line of `mongo-job.main.ts`: a batch (`event: 'batch'`) or the result (`event: 'result'`). */
export type JobLine = Record<string, unknown> & { event: 'batch' | 'result' };

/** A `bin/mongo-job.main.ts` child process and what it has printed so far. */
export interface JobChild {
  proc: ChildProcess;
  /** Every JSON line printed so far, in order. */
  lines: JobLine[];
  /** Resolves the exit code (null when killed by a signal). */
  exit: Promise<number | null>;
  /** The batch lines printed so far. */
  batches(): JobLine[];
  /** The result line, once printed. */
  result(): JobLine | undefined;
  /** Whether the process has exited. */
  ended(): boolean;
}

/**
 * Puts the test migration of `collection` in its backfill phase, where the orchestrator lets the
 * child run its (default) backfill job.
 */
export async function inBackfillPhase(server: TestMongo, collection: string): Promise<void> {
  await placeInPhase(createMongoControlStore(server.db), fullNameMigration({ collection, id: childMigrationId(collection) }), 'backfill');
}

/**
 * Starts the child runner on the customers.full-name test migration of `collection`
 * (child-migrations.fixture.ts), as `owner`, with extra CLI arguments (`--batch`, `--lease-ms`...).
 */
export function startJobChild(server: TestMongo, collection: string, owner: string, extra: string[] = []): JobChild {
  const proc = spawn(
    resolve(root, 'node_modules/.bin/node'),
    ['-r', '@swc-node/register', main, '--url', server.url, '--db', server.dbName, '--migrations', migrations, '--id', childMigrationId(collection), '--owner', owner, ...extra],
    { cwd: root, env: { ...process.env, SWC_NODE_PROJECT: 'tsconfig.base.json', ZDM_TEST_COLLECTION: collection }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  if (trace) process.stderr.write(`${new Date().toISOString()} ${owner} spawned\n`);
  const lines: JobLine[] = [];
  let buffered = '';
  let stderr = '';
  proc.stdout?.on('data', (chunk) => {
    buffered += String(chunk);
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    for (const part of parts.filter((p) => p.trim())) {
      lines.push(JSON.parse(part) as JobLine);
      if (trace) process.stderr.write(`${new Date().toISOString()} ${owner} ${part}\n`);
    }
  });
  proc.stderr?.on('data', (chunk) => (stderr += String(chunk)));
  let ended = false;
  const exit = new Promise<number | null>((done) =>
    proc.once('exit', (code) => {
      ended = true;
      if (code !== 0 && code !== null && stderr) process.stderr.write(`${owner}: ${stderr}`);
      done(code);
    }),
  );
  return { proc, lines, exit, batches: () => lines.filter((l) => l.event === 'batch'), result: () => lines.find((l) => l.event === 'result'), ended: () => ended };
}

/** The lease record of a migration job: owner, fencing token, expiry and checkpoint. */
export interface LeaseRecord {
  owner: string | null;
  token: number;
  expiresAt: Date;
  checkpoint?: { cursor: string | null; processed: number; written: number; batches: number; done: boolean };
}

/** Reads the lease record of the backfill of `collection`'s test migration (one lookup by `_id`). */
export async function backfillLease(db: mongo.Db, collection: string): Promise<LeaseRecord> {
  const found = await db.collection('zdm_leases').findOne({ _id: `${childMigrationId(collection)}:backfill` } as Doc);
  if (!found) throw new Error(`no lease record for ${childMigrationId(collection)}:backfill`);
  return found as unknown as LeaseRecord;
}

/** Waits until the backfill lease of `collection` has expired (a killed or frozen holder cannot renew it). */
export async function leaseExpiry(db: mongo.Db, collection: string): Promise<void> {
  const { expiresAt } = await backfillLease(db, collection);
  await sleep(Math.max(0, expiresAt.getTime() - Date.now()) + 50);
}

/** Inserts `count` v1 customers 5000 at a time and returns them, `_id`s included, in `_id` order. */
export async function seedKept(collection: mongo.Collection<mongo.Document>, count: number): Promise<Doc[]> {
  const docs: Doc[] = [];
  for (let i = 0; i < count; i += 5000) {
    const chunk = Array.from({ length: Math.min(5000, count - i) }, (_, j) => customerDoc(i + j));
    // The driver sets each document's `_id` in place.
    await collection.insertMany(chunk);
    docs.push(...chunk);
  }
  return docs.sort((a, b) => hexOf(a).localeCompare(hexOf(b)));
}

const hexOf = (doc: Doc) => (doc['_id'] as mongo.ObjectId).toHexString();

/** Every document of the collection, read with one cursor (no filter: FerretDB scans once). */
export async function readAll(collection: mongo.Collection<mongo.Document>): Promise<Map<string, Doc>> {
  const all = new Map<string, Doc>();
  for await (const doc of collection.find({}, { batchSize: 5000 })) all.set(hexOf(doc), doc);
  return all;
}

/** What a {@link ConcurrentWriter} acknowledged for one document: its last values and how many writes. */
export interface AckedWrite {
  firstName: string;
  email: string;
  writes: number;
}

/**
 * An application writer, writing through the database's {@link DocumentWriter} as a service
 * repository does: read the document by `_id`, `$set` new names (and `fullName` once the document
 * is v2) with `$inc: {_rev: 1}`. Renames random documents at about `ratePerSec` with `concurrency`
 * loops; a document another writer holds or changed meanwhile is left for another one.
 */
export class ConcurrentWriter {
  /** Last acknowledged values per document (hex `_id`). */
  readonly acked = new Map<string, AckedWrite>();
  writes = 0;
  /** Renames given up because another writer (the runner, a killed runner, the other loops) held or changed the document. */
  busy = 0;
  private stopped = false;
  private loops: Promise<void>[] = [];
  private startedAt = 0;

  constructor(
    private readonly collection: mongo.Collection<mongo.Document>,
    private readonly writer: DocumentWriter,
    private readonly ids: mongo.ObjectId[],
    private readonly random: () => number,
  ) {}

  start(ratePerSec: number, concurrency = 4): void {
    this.startedAt = performance.now();
    this.loops = Array.from({ length: concurrency }, (_, loop) => this.loop(loop, ratePerSec));
  }

  /** Stops after the writes in flight; rejects if any write failed. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.loops);
  }

  private async loop(loop: number, ratePerSec: number): Promise<void> {
    while (!this.stopped) {
      const ahead = this.writes / ratePerSec - (performance.now() - this.startedAt) / 1000;
      if (ahead > 0) await sleep(ahead * 1000);
      const _id = this.ids[Math.floor(this.random() * this.ids.length)];
      try {
        await this.rename(_id, loop);
      } catch (err) {
        if (!(err instanceof WriteConflictError)) throw err;
        this.busy++;
        await sleep(2);
      }
    }
  }

  /** One read-decide-write of `_id` through the writer, one attempt. */
  private async rename(_id: mongo.ObjectId, loop: number): Promise<void> {
    const id = _id.toHexString();
    let firstName = '';
    const result = await this.writer.update(
      this.collection.collectionName,
      id,
      {
        read: () => this.collection.findOne({ _id }),
        decide: (current) => {
          firstName = `W${loop}-${this.writes + 1}`;
          const set: Doc = { firstName, email: `${firstName}@example.com` };
          if (current['_v'] === 2) set['fullName'] = `${firstName} ${String(current['lastName'])}`;
          return { $set: set, $inc: { _rev: 1 } };
        },
        write: async (filter, update) => ((await this.collection.updateOne(filter, update)).matchedCount === 1 ? true : null),
      },
      { maxAttempts: 1 },
    );
    if (!result) throw new Error(`customer ${id} is gone`);
    if (!('written' in result)) throw new Error(`the rename of ${id} wrote nothing`);
    const before = this.acked.get(id);
    this.acked.set(id, { firstName, email: `${firstName}@example.com`, writes: (before?.writes ?? 0) + 1 });
    this.writes++;
  }
}
