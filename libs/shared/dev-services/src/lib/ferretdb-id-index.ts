import { readdirSync } from 'node:fs';
import path from 'node:path';

/** What one pass of {@link indexFerretDbIds} did. */
export interface IdIndexPass {
  /** `<database>.<table>` for each index created in this pass. */
  created: string[];
  /** Files that could not be read or changed this time (they are tried again on the next pass). */
  errors: string[];
}

type SqliteModule = typeof import('node:sqlite');

/** node:sqlite, or undefined on a Node without it (before 22.5). */
function loadSqlite(): SqliteModule | undefined {
  try {
    return require('node:sqlite') as SqliteModule;
  } catch {
    return undefined;
  }
}

/** Index name for a FerretDB table: `<table>_zdm_id`. */
export const idIndexName = (table: string): string => `${table}_zdm_id`;

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

/**
 * FerretDB 1.x on SQLite declares each collection's `_id` index on `_ferretdb_sjson->"_id"`, but
 * its queries filter on `_ferretdb_sjson->'$._id'`. SQLite does not treat the two expressions as
 * the same, so every lookup by `_id` reads the whole table: about 0.1 s at 20,000 documents and
 * about 1 s at 200,000. This pass adds, in every database file of a local FerretDB data directory,
 * an index on the expression the queries use, for each collection table that lacks one. It reads
 * and writes the files through node:sqlite while FerretDB runs (SQLite locks; FerretDB waits up to
 * 10 s for a lock). FerretDB itself does not see the index and the data are not touched.
 */
export function indexFerretDbIds(dataDir: string): IdIndexPass {
  const pass: IdIndexPass = { created: [], errors: [] };
  const sqlite = loadSqlite();
  if (!sqlite) return { ...pass, errors: ['node:sqlite is not available in this Node'] };
  let files: string[];
  try {
    files = readdirSync(dataDir).filter((f) => f.endsWith('.sqlite'));
  } catch (err) {
    return { ...pass, errors: [`${dataDir}: ${(err as Error).message}`] };
  }
  for (const file of files) {
    let db: InstanceType<SqliteModule['DatabaseSync']> | undefined;
    try {
      db = new sqlite.DatabaseSync(path.join(dataDir, file), { timeout: 2000 });
      const hasCatalog = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_ferretdb_collections'`).get();
      if (!hasCatalog) continue;
      const missing = db
        .prepare(
          `SELECT c.table_name AS t FROM _ferretdb_collections c
           JOIN sqlite_master tb ON tb.type = 'table' AND tb.name = c.table_name
           WHERE NOT EXISTS (SELECT 1 FROM sqlite_master ix WHERE ix.type = 'index' AND ix.name = c.table_name || '_zdm_id')`,
        )
        .all()
        .map((row) => String(row['t']));
      for (const table of missing) {
        db.exec(`CREATE INDEX IF NOT EXISTS ${quote(idIndexName(table))} ON ${quote(table)} (_ferretdb_sjson->'$._id')`);
        pass.created.push(`${file.replace(/\.sqlite$/, '')}.${table}`);
      }
    } catch (err) {
      // A table dropped or a file created meanwhile, or a lock held too long: next pass.
      pass.errors.push(`${file}: ${(err as Error).message}`);
    } finally {
      db?.close();
    }
  }
  return pass;
}

/**
 * Runs {@link indexFerretDbIds} on `dataDir` now and then every `intervalMs` (default 500 ms),
 * so collections created later get their index within about that long. Returns the stop function.
 * The timer does not keep the process alive.
 */
export function keepFerretDbIdsIndexed(dataDir: string, intervalMs = 500): () => void {
  if (!loadSqlite()) {
    // Everything still works, but every write and lookup by _id reads the whole table: say so.
    process.emitWarning(
      `node:sqlite is not available in Node ${process.version}, so FerretDB's _id lookups stay unindexed and every write reads the whole table; run with Node >= 22.5 (npm scripts use node_modules/.bin/node)`,
      { code: 'ZDM_FERRETDB_UNINDEXED' },
    );
    return () => undefined;
  }
  let running = false;
  const tick = () => {
    if (running) return;
    running = true;
    try {
      indexFerretDbIds(dataDir);
    } finally {
      running = false;
    }
  };
  tick();
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
