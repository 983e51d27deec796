import { randomUUID } from 'node:crypto';
import { mongo } from 'mongoose';
import { isTransientLock, retryWhileLocked } from './mongo-driver.util';

interface ClaimRecord {
  _id: string;
  at: Date;
  by: string;
}

/** Options of {@link DocumentClaims}. */
export interface DocumentClaimsOptions {
  /** Collection holding the claims. Default `zdm_claims`. */
  collection?: string;
  /** A claim older than this is taken as left behind by a writer that died, and is removed. Default 30 s. */
  staleAfterMs?: number;
}

/** The documents one call could claim, and how to let them go. */
export interface ClaimedDocuments {
  /** Ids now held by the caller (the others are held by another writer). */
  taken: string[];
  /** Frees exactly the claims this call took; safe to call more than once. */
  release: () => Promise<void>;
}

/**
 * One writer at a time per document, for servers that do not apply an update's filter and its write
 * atomically. FerretDB 1.x (SQLite) matches a filter and writes the document in separate steps, so
 * two compare-and-set updates on the same `_rev` can both succeed and one change is lost. Inserting
 * a unique `_id` is atomic there, so a writer first inserts `<namespace>:<id>`, then reads, decides
 * and writes the document by `_id` alone, then deletes the claim. Whoever finds the claim taken
 * tries again later. Every writer of the collection must take claims: both the migration runner and
 * the application write through the {@link DocumentWriter} of `createDocumentWriter`, which takes
 * them on such servers; inserts need none.
 */
export class DocumentClaims {
  private readonly claims: mongo.Collection<ClaimRecord>;
  private readonly staleAfterMs: number;

  constructor(db: mongo.Db, options: DocumentClaimsOptions = {}) {
    this.claims = db.collection<ClaimRecord>(options.collection ?? 'zdm_claims');
    this.staleAfterMs = options.staleAfterMs ?? 30_000;
  }

  /** Claims one document; resolves the release function, or null when another writer holds it. */
  async take(namespace: string, id: string): Promise<(() => Promise<void>) | null> {
    const { taken, release } = await this.takeMany(namespace, [id]);
    return taken.length ? release : null;
  }

  /**
   * Claims as many of `ids` as are free, in one command. `owner` names the kind of writer (default
   * `app`), so that {@link releaseAllOf} can free what a crashed writer of that kind left behind.
   */
  async takeMany(namespace: string, ids: readonly string[], owner = 'app'): Promise<ClaimedDocuments> {
    const by = `${owner}#${randomUUID()}`;
    const at = new Date();
    const unique = [...new Set(ids)];
    const held = new Set<number>();
    for (let attempt = 1; unique.length; attempt++) {
      try {
        await this.claims.insertMany(unique.map((id) => ({ _id: key(namespace, id), at, by })), { ordered: false });
        break;
      } catch (err) {
        const errors = err instanceof mongo.MongoBulkWriteError ? ([] as mongo.WriteError[]).concat(err.writeErrors) : [];
        const other = errors.find((e) => e.code !== 11000);
        if (err instanceof mongo.MongoBulkWriteError && !other) {
          for (const e of errors) held.add(e.index);
          break;
        }
        // A lock conflict inside the server (FerretDB): undo whatever landed and claim again.
        if (attempt < 8 && (isTransientLock(err) || isTransientLock(other?.errmsg))) {
          held.clear();
          await retryWhileLocked(() => this.claims.deleteMany({ by }));
          await new Promise((r) => setTimeout(r, Math.random() * 5 * 2 ** attempt));
          continue;
        }
        throw new Error(`claiming documents in ${namespace} failed: ${other?.errmsg ?? (err as Error).message}`);
      }
    }
    const taken = unique.filter((_, i) => !held.has(i));
    if (held.size) await this.clearStale(unique.filter((_, i) => held.has(i)).map((id) => key(namespace, id)));
    let released = false;
    return {
      taken,
      release: async () => {
        if (released || !taken.length) return;
        released = true;
        await retryWhileLocked(() => this.claims.deleteMany({ _id: { $in: taken.map((id) => key(namespace, id)) }, by }));
      },
    };
  }

  /**
   * Frees every claim taken under `owner`. A migration runner calls it once it holds its job's
   * fenced lease: any earlier runner of that job is fenced out and never writes again, so claims
   * it left behind (a SIGKILL between claim and release) need not wait `staleAfterMs`.
   */
  async releaseAllOf(owner: string): Promise<number> {
    const { deletedCount } = await retryWhileLocked(() => this.claims.deleteMany({ by: { $regex: `^${owner.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}#` } }));
    return deletedCount;
  }

  /** Removes claims among `keys` that are older than `staleAfterMs` (their writer is gone); the next attempt may take them. */
  private async clearStale(keys: string[]): Promise<void> {
    const before = new Date(Date.now() - this.staleAfterMs);
    const stale = await this.claims.find({ _id: { $in: keys } }).toArray();
    for (const claim of stale) if (claim.at < before) await this.claims.deleteOne({ _id: claim._id, by: claim.by });
  }
}

const key = (namespace: string, id: string) => `${namespace}:${id}`;

/** Whether the server applies an update's filter and write atomically (MongoDB does; FerretDB 1.x does not). */
export async function hasAtomicUpdates(db: mongo.Db): Promise<boolean> {
  const info = await db.admin().command({ buildInfo: 1 });
  return !('ferretdbVersion' in info);
}
