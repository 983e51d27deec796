import {
  JobTarget,
  ControlStore,
  DataCounts,
  Doc,
  JobKind,
  MigrationBackend,
  MigrationDefinition,
  TargetItem,
  targetName,
} from '@zdm/migrations-core';

/** One stored document: its version (absent = 1), a revision bumped on every write, and its content. */
export interface MemoryRow {
  id: string;
  v?: number;
  rev: number;
  doc: Doc;
}

const versionOf = (row: MemoryRow) => row.v ?? 1;

/**
 * A data store held in process memory, for the CLI's own tests: `_id`-ordered batches after a
 * cursor, a per-job filter, and compare-and-set writes on a revision counter.
 */
export class MemoryBackend implements MigrationBackend {
  /** Rows per target name (collection or key pattern). */
  readonly data = new Map<string, Map<string, MemoryRow>>();

  constructor(readonly store: ControlStore) {}

  rows(target: string): Map<string, MemoryRow> {
    let rows = this.data.get(target);
    if (!rows) this.data.set(target, (rows = new Map()));
    return rows;
  }

  insert(target: string, id: string, doc: Doc, v?: number): void {
    this.rows(target).set(id, { id, v, rev: 0, doc: structuredClone(doc) });
  }

  async counts(def: MigrationDefinition): Promise<DataCounts> {
    const rows = [...this.rows(targetName(def.target)).values()];
    const removed = def.removedFields ?? [];
    return {
      belowTarget: rows.filter((r) => versionOf(r) < def.to).length,
      withOldFields: rows.filter((r) => removed.some((f) => f in r.doc)).length,
      quarantined: await this.store.quarantine.count(def.id),
    };
  }

  target(def: MigrationDefinition, job: JobKind): JobTarget {
    const rows = this.rows(targetName(def.target));
    const removed = def.removedFields ?? [];
    const wanted: Record<JobKind, (r: MemoryRow) => boolean> = {
      backfill: (r) => versionOf(r) < def.to,
      verify: () => true,
      contract: (r) => versionOf(r) >= def.to && removed.some((f) => f in r.doc),
      down: (r) => versionOf(r) === def.to,
      unexpand: (r) => versionOf(r) >= def.to,
    };
    const item = (r: MemoryRow): TargetItem => ({ id: r.id, version: versionOf(r), doc: structuredClone(r.doc), cas: r.rev });
    const sorted = () => [...rows.values()].filter(wanted[job]).sort((a, b) => a.id.localeCompare(b.id));
    return {
      countRemaining: async () => sorted().length,
      readBatch: async (cursor, limit) => {
        const page = sorted().filter((r) => cursor === null || r.id > cursor).slice(0, limit);
        return { items: page.map(item), cursor: page.length ? page[page.length - 1].id : cursor, done: page.length < limit };
      },
      writeBatch: async (changes) => {
        const conflicts: string[] = [];
        for (const c of changes) {
          const row = rows.get(c.item.id);
          if (!row || row.rev !== c.item.cas) conflicts.push(c.item.id);
          else rows.set(row.id, { id: row.id, v: c.version, rev: row.rev + 1, doc: structuredClone(c.doc) });
        }
        return { conflicts };
      },
      reread: async (ids) => ids.flatMap((id) => (rows.has(id) ? [item(rows.get(id) as MemoryRow)] : [])),
    };
  }

  async sample(def: MigrationDefinition, size: number): Promise<{ id: string; doc: Doc }[]> {
    return [...this.rows(targetName(def.target)).values()]
      .filter((r) => versionOf(r) === def.from)
      .slice(0, size)
      .map((r) => ({ id: r.id, doc: structuredClone(r.doc) }));
  }
}
