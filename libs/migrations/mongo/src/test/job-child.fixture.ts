import { customerDoc, fullNameMigration, placeInPhase } from '@zdm/migrations-core/testing';
import { seededRandom } from '@zdm/dev-services';
export { seededRandom };
import { Doc } from '@zdm/migrations-core';
import { ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { mongo } from 'mongoose';
import { DocumentClaims } from '../lib/document.claims';
import { matchValue } from '../lib/document.diff';
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
 * An application writer: read the document by `_id`, `$set` new names (and `fullName` once the
 * document is v2) with `$inc: {_rev: 1}`. Where updates are atomic (`claims` null) the write
 * compare-and-sets on `_id` + `_v` + `_rev` and reads again on a conflict; on a
 * server without atomic updates (FerretDB 1.x) it claims the document first, writes by `_id`, and
 * releases. Renames random documents at about `ratePerSec` with `concurrency` loops; a document
 * found claimed is left for another one.
 */
export class ConcurrentWriter {
  /** Last acknowledged values per document (hex `_id`). */
  readonly acked = new Map<string, AckedWrite>();
  writes = 0;
  /** Claims found held by someone else (the runner, a killed runner, the other loop), or compare-and-sets that met a newer document. */
  busy = 0;
  private stopped = false;
  private loops: Promise<void>[] = [];
  private startedAt = 0;

  constructor(
    private readonly collection: mongo.Collection<mongo.Document>,
    private readonly claims: DocumentClaims | null,
    private readonly ids: mongo.ObjectId[],
    private readonly random: () => number,
  ) {}

  /** Whether it claims documents (a server without atomic updates) rather than compare-and-set. */
  get claiming(): boolean {
    return this.claims !== null;
  }

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
    const name = this.collection.collectionName;
    while (!this.stopped) {
      const ahead = this.writes / ratePerSec - (performance.now() - this.startedAt) / 1000;
      if (ahead > 0) await sleep(ahead * 1000);
      const _id = this.ids[Math.floor(this.random() * this.ids.length)];
      const release = this.claims ? await this.claims.take(name, _id.toHexString()) : async () => undefined;
      if (!release) {
        this.busy++;
        await sleep(2);
        continue;
      }
      try {
        while (!(await this.rename(_id, loop))) this.busy++;
      } finally {
        await release();
      }
    }
  }

  /** One read and write of `_id`; false when a compare-and-set met a newer document. */
  private async rename(_id: mongo.ObjectId, loop: number): Promise<boolean> {
    const current = await this.collection.findOne({ _id });
    if (!current) throw new Error(`customer ${_id.toHexString()} is gone`);
    const n = this.writes + 1;
    const firstName = `W${loop}-${n}`;
    const set: Doc = { firstName, email: `${firstName}@example.com` };
    if (current['_v'] === 2) set['fullName'] = `${firstName} ${String(current['lastName'])}`;
    // What it writes depends on the version it read (fullName only at v2), so the compare-and-set
    // covers `_v` as well as `_rev`: the runner's write changes `_v` and leaves `_rev` alone.
    const filter: Doc = this.claims ? { _id } : { _id, _v: matchValue(current['_v']), _rev: matchValue(current['_rev']) };
    const { matchedCount } = await this.collection.updateOne(filter, { $set: set, $inc: { _rev: 1 } });
    if (matchedCount === 0 && !this.claims) return false;
    if (matchedCount !== 1) throw new Error(`the update of ${_id.toHexString()} matched ${matchedCount} documents`);
    const before = this.acked.get(_id.toHexString());
    this.acked.set(_id.toHexString(), { firstName, email: String(set['email']), writes: (before?.writes ?? 0) + 1 });
    this.writes++;
    return true;
  }
}
