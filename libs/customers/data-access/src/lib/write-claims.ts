import type { mongo } from 'mongoose';

interface ClaimRecord {
  _id: string;
  at: Date;
}

/** Options of {@link WriteClaims}. */
export interface WriteClaimsOptions {
  /** Collection holding the claims. */
  collection: string;
  /** A claim older than this is taken as left behind by a crashed writer and may be taken over. Default 10 s. */
  staleAfterMs?: number;
}

/**
 * One writer at a time per document revision, for servers whose conditional updates are not
 * atomic. FerretDB 1.x (SQLite) matches an update's filter and writes the document in separate
 * steps, so two updates filtering on the same `_rev` can both succeed and one change is lost.
 * Inserting a unique `_id` is atomic there, so a writer first claims `<id>:<rev>` (the revision it
 * read and means to replace); whoever fails to claim re-reads. The claim is deleted after the
 * write; a later writer that read an old revision then misses on `_rev` as it should.
 */
export class WriteClaims {
  private readonly claims: mongo.Collection<ClaimRecord>;
  private readonly staleAfterMs: number;

  constructor(db: mongo.Db, options: WriteClaimsOptions) {
    this.claims = db.collection<ClaimRecord>(options.collection);
    this.staleAfterMs = options.staleAfterMs ?? 10_000;
  }

  /** Claims revision `rev` of document `id`; resolves the release function, or null when another writer holds it. */
  async take(id: string, rev: number | null): Promise<(() => Promise<void>) | null> {
    const key = `${id}:${rev ?? 0}`;
    try {
      await this.claims.insertOne({ _id: key, at: new Date() });
    } catch (err) {
      if ((err as { code?: number }).code !== 11000) throw err;
      const held = await this.claims.findOne({ _id: key });
      // Left behind by a writer that died between claim and release: free it for the next attempt.
      if (held && Date.now() - held.at.getTime() > this.staleAfterMs) await this.claims.deleteOne({ _id: key, at: held.at });
      return null;
    }
    return async () => {
      await this.claims.deleteOne({ _id: key });
    };
  }
}

/** Whether the server applies an update's filter and write atomically (MongoDB does; FerretDB 1.x does not). */
export async function hasAtomicUpdates(db: mongo.Db): Promise<boolean> {
  const info = await db.admin().command({ buildInfo: 1 });
  return !('ferretdbVersion' in info);
}
