import { mongo } from 'mongoose';

/** One acknowledged write that did not read back as acknowledged. */
export interface LostWrite {
  id: string;
  expected: { firstName: string; lastName: string };
  /** What the API returned for it (`{ status }` when it was not found). */
  got: Record<string, unknown>;
}

/** What reading every customer back through the API found. */
export interface ReadBack {
  /** Acknowledged writes compared. */
  checked: number;
  lostWrites: number;
  examples: LostWrite[];
  /** Customers whose `fullName` (when the API gives it) is not their names joined. */
  fullNameMismatches: number;
  /** Requests that had to be repeated (no answer, or a 5xx). */
  retries: number;
  durationMs: number;
}

/** Options of {@link readBack}. */
export interface ReadBackOptions {
  /** Requests in flight at once. Default 16. */
  concurrency?: number;
  /** Joins first and last name as the service does for `fullName`. */
  joinFullName: (n: { firstName: string; lastName: string }) => string;
}

interface Answer {
  status: number;
  body: Record<string, unknown> | null;
  attempts: number;
}

async function getCustomer(baseUrl: string, id: string): Promise<Answer> {
  for (let attempt = 1; ; attempt++) {
    const res = await fetch(`${baseUrl}/customers/${id}`, { signal: AbortSignal.timeout(30_000) }).catch((err: Error) => err);
    if (!(res instanceof Error) && res.status < 500) {
      return { status: res.status, body: res.status === 200 ? ((await res.json()) as Record<string, unknown>) : null, attempts: attempt };
    }
    if (attempt >= 3) throw new Error(`read-back: GET /customers/${id} failed 3 times: ${res instanceof Error ? res.message : res.status}`);
  }
}

/**
 * Reads every acknowledged customer back through the API (`GET /customers/:id`, through the load
 * balancer, as any client would) and compares it with the last acknowledged write: a customer that
 * is gone (404), or whose names differ, is a lost write. By id rather than page by page: on
 * FerretDB 1.x a page after a cursor costs a scan of the whole collection.
 */
export async function readBack(baseUrl: string, acked: readonly [string, string, string][], options: ReadBackOptions): Promise<ReadBack> {
  const started = performance.now();
  const examples: LostWrite[] = [];
  let lostWrites = 0;
  let fullNameMismatches = 0;
  let retries = 0;
  let next = 0;
  const worker = async () => {
    while (next < acked.length) {
      const [id, firstName, lastName] = acked[next++];
      const { status, body, attempts } = await getCustomer(baseUrl, id);
      retries += attempts - 1;
      const fullName = body?.['fullName'];
      if (body && fullName !== undefined && fullName !== options.joinFullName({ firstName, lastName })) fullNameMismatches++;
      if (status === 200 && body?.['firstName'] === firstName && body['lastName'] === lastName) continue;
      lostWrites++;
      if (examples.length < 20) examples.push({ id, expected: { firstName, lastName }, got: body ?? { status } });
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 16 }, worker));
  return { checked: acked.length, lostWrites, examples, fullNameMismatches, retries, durationMs: Math.round(performance.now() - started) };
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
 * Counts the documents straight in the database: all, those at `finalVersion`, and those that
 * still carry one of `oldFields`.
 */
export async function documentCensus(db: mongo.Db, collection: string, finalVersion: number, oldFields: readonly string[]): Promise<DocumentCensus> {
  const c = db.collection(collection);
  const [total, atFinalVersion, withOldFields, versions] = await Promise.all([
    c.countDocuments({}),
    c.countDocuments({ _v: finalVersion }),
    oldFields.length ? c.countDocuments({ $or: oldFields.map((f) => ({ [f]: { $exists: true } })) }) : 0,
    c.distinct('_v'),
  ]);
  const byVersion: Record<string, number> = {};
  for (const v of versions as unknown[]) byVersion[String(v)] = await c.countDocuments({ _v: v });
  const unversioned = await c.countDocuments({ _v: { $exists: false } });
  if (unversioned) byVersion['none'] = unversioned;
  return { total, atFinalVersion, withOldFields, byVersion };
}
