import { mongo } from 'mongoose';
import type { ReadProblem } from './services/traffic';

/** One acknowledged write that did not read back as acknowledged. */
export interface LostWrite {
  id: string;
  expected: unknown;
  /** What the API returned for it (`{ status }` when it was not found). */
  got: Record<string, unknown>;
}

/** What reading every acknowledged document of one service back through the API found. */
export interface ReadBack {
  /** Acknowledged writes compared. */
  checked: number;
  lostWrites: number;
  examples: LostWrite[];
  /** Documents that read back with their acknowledged value but a derived field that disagrees with it (e.g. `fullName`). */
  inconsistent: number;
  /** Requests that had to be repeated (no answer, or a 5xx). */
  retries: number;
  durationMs: number;
}

/** Options of {@link readBack}. */
export interface ReadBackOptions {
  /** The collection's path on the API: `GET <baseUrl>/<resource>/:id`. */
  resource: string;
  /** What is wrong with an answer, given the last acknowledged value (null: nothing). */
  check: (expected: never, body: Record<string, unknown>) => ReadProblem | null;
  /** Requests in flight at once. Default 16. */
  concurrency?: number;
}

interface Answer {
  status: number;
  body: Record<string, unknown> | null;
  attempts: number;
}

async function getOne(url: string): Promise<Answer> {
  for (let attempt = 1; ; attempt++) {
    const res = await fetch(url, { signal: AbortSignal.timeout(30_000) }).catch((err: Error) => err);
    if (!(res instanceof Error) && res.status < 500) {
      return { status: res.status, body: res.status === 200 ? ((await res.json()) as Record<string, unknown>) : null, attempts: attempt };
    }
    if (attempt >= 3) throw new Error(`read-back: GET ${url} failed 3 times: ${res instanceof Error ? res.message : res.status}`);
  }
}

/**
 * Reads every acknowledged document back through the API (`GET /<resource>/:id`, through the load
 * balancer, as any client would) and compares it with the last acknowledged write: a document that
 * is gone (404), or whose value differs, is a lost write. By id rather than page by page: on
 * FerretDB 1.x a page after a cursor costs a scan of the whole collection.
 */
export async function readBack(baseUrl: string, acked: readonly [string, Record<string, unknown>][], options: ReadBackOptions): Promise<ReadBack> {
  const started = performance.now();
  const examples: LostWrite[] = [];
  let lostWrites = 0;
  let inconsistent = 0;
  let retries = 0;
  let next = 0;
  const check = options.check as (expected: unknown, body: Record<string, unknown>) => ReadProblem | null;
  const worker = async () => {
    while (next < acked.length) {
      const [id, expected] = acked[next++];
      const { status, body, attempts } = await getOne(`${baseUrl}/${options.resource}/${id}`);
      retries += attempts - 1;
      const problem = status === 200 && body ? check(expected, body) : 'lost';
      if (problem === 'inconsistent') inconsistent++;
      if (problem !== 'lost') continue;
      lostWrites++;
      if (examples.length < 20) examples.push({ id, expected, got: body ?? { status } });
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 16 }, worker));
  return { checked: acked.length, lostWrites, examples, inconsistent, retries, durationMs: Math.round(performance.now() - started) };
}

/** What the database itself holds at the end. */
export interface DocumentCensus {
  total: number;
  atFinalVersion: number;
  withOldFields: number;
  /** Documents per stored `_v` (`"none"` for documents without one). */
  byVersion: Record<string, number>;
}

/**
 * Counts the documents straight in the database: all, those at `finalVersion` (a document without
 * `_v` is at v1), and those that still carry one of `oldFields`.
 */
export async function documentCensus(db: mongo.Db, collection: string, finalVersion: number, oldFields: readonly string[]): Promise<DocumentCensus> {
  const c = db.collection(collection);
  const [total, atFinalVersion, withOldFields, versions] = await Promise.all([
    c.countDocuments({}),
    c.countDocuments(finalVersion === 1 ? { $or: [{ _v: 1 }, { _v: { $exists: false } }] } : { _v: finalVersion }),
    oldFields.length ? c.countDocuments({ $or: oldFields.map((f) => ({ [f]: { $exists: true } })) }) : 0,
    c.distinct('_v'),
  ]);
  const byVersion: Record<string, number> = {};
  for (const v of versions as unknown[]) byVersion[String(v)] = await c.countDocuments({ _v: v });
  const unversioned = await c.countDocuments({ _v: { $exists: false } });
  if (unversioned) byVersion['none'] = unversioned;
  return { total, atFinalVersion, withOldFields, byVersion };
}
