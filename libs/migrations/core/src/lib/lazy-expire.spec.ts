import { GateRefusedError } from './gates';
import { MigrationRegistry } from './migration-registry';
import { Migrator } from './migrator';
import { Phase } from './phases';
import { InMemoryCollection, createInMemoryBackend } from './testing/in-memory-target';
import { customer, docId, pinHashMigration, simulatedFleet } from './testing/migration.fixtures';

const def = pinHashMigration();
const id = def.id;
const ops = { actor: 'alice', reason: 'ticket OPS-9: PIN deadline passed' };
const N = 12;
const deadline = new Date('2026-03-01T00:00:00Z');
const afterDeadline = new Date('2026-03-02T00:00:00Z');

/** N customers with v1 PIN hashes, a migrator, and a fleet that follows the flags and writes v2 once write-new is on. */
function setup(expire = def, leaseTtlMs?: number) {
  const collection = new InMemoryCollection();
  for (let i = 0; i < N; i++) collection.insert(docId(i), { ...customer(i), pin: `v1:${i}` });
  const hooks: { beforeWrite?: () => void | Promise<void> } = {};
  const backend = createInMemoryBackend(collection, { hooks: { backfill: { beforeWrite: () => hooks.beforeWrite?.() } } });
  const fleet = simulatedFleet(expire);
  const migrator = new Migrator({ registry: MigrationRegistry.create([expire]), backend, flags: fleet.flags, owner: 'runner-1', leaseTtlMs });
  /** The service upgrading customer `i` at the use of its PIN. */
  const use = (i: number) => collection.appWrite(docId(i), { ...customer(i), pin: `v2:${i}`, pinHashedAt: '2026-02-01' }, 2);
  async function driveTo(target: Phase) {
    for (let phase = (await migrator.status(id)).phase; phase !== target; phase = await migrator.advance(id, ops)) await fleet.beat(backend.store);
    await fleet.beat(backend.store);
  }
  return { collection, backend, migrator, use, driveTo, hooks, audit: () => backend.store.audit.list(id) };
}

describe('a lazy-only migration in the migrator', () => {
  it('plans no backfill: the strategy says when documents are upgraded, every v1 document is affected, the estimate is 0', async () => {
    const { migrator } = setup();
    const [entry] = await migrator.plan();
    expect(entry).toMatchObject({ id, strategy: 'lazy-only (no backfill: upgraded at the next use of the PIN)', affected: N, total: N, estimatedBackfillSec: 0 });
    expect(entry.phases.map((p) => p.phase)).toEqual(['expand', 'backfill', 'verify', 'complete']);
  });

  it('refuses a backfill run, and the phase holds while any document is still below v2, counting them down as they are upgraded', async () => {
    const { migrator, use, driveTo } = setup();
    await driveTo('backfill');
    await expect(migrator.run(id, 'backfill')).rejects.toThrow('customers.pin-hash is lazy-only: it cannot be backfilled');
    for (let i = 0; i < 4; i++) use(i);
    const err = (await migrator.advance(id, ops).catch((e: unknown) => e)) as GateRefusedError;
    expect(err).toBeInstanceOf(GateRefusedError);
    expect(err.failing.map((g) => g.gate)).toEqual(['no-old-version-left']);
    expect((await migrator.status(id)).counts.belowTarget).toBe(N - 4);
  });

  it('expires nothing before the deadline, or outside the backfill phase, or without an expire hook', async () => {
    const { migrator, driveTo } = setup();
    await driveTo('expand');
    await expect(migrator.expireLazy(id, { before: deadline, now: afterDeadline }, ops)).rejects.toThrow('customers.pin-hash expires documents in phase backfill (every live instance writes v2), but it is in expand');
    await driveTo('backfill');
    await expect(migrator.expireLazy(id, { before: deadline, now: new Date('2026-02-28T23:59:59Z') }, ops)).rejects.toThrow(
      'the deadline 2026-03-01T00:00:00.000Z has not passed yet (now 2026-02-28T23:59:59.000Z); users may still upgrade',
    );
    const noHook = setup(pinHashMigration({ strategy: { kind: 'lazy-only', upgradedWhen: 'at the next use of the PIN' } }));
    await noHook.driveTo('backfill');
    await expect(noHook.migrator.expireLazy(id, { before: deadline, now: afterDeadline }, ops)).rejects.toThrow('declares no expire hook');
  });

  it('counts in a dry run what it would expire, writing and auditing nothing', async () => {
    const { migrator, collection, use, driveTo, audit } = setup();
    await driveTo('backfill');
    use(0);
    const entries = (await audit()).length;
    const writes = collection.writes.length;
    const result = await migrator.expireLazy(id, { before: deadline, now: afterDeadline, dryRun: true }, ops);
    expect(result).toMatchObject({ dryRun: true, expired: N - 1, remaining: N - 1, upgradedMeanwhile: 0, refused: [] });
    expect(result.ids).toEqual(Array.from({ length: N - 1 }, (_, i) => docId(i + 1)));
    expect(collection.writes.length).toBe(writes);
    expect((await audit()).length).toBe(entries);
  });

  it('expires every document left below v2 with the hook, keeps them all, audits it, and then lets the migration complete', async () => {
    const { migrator, collection, use, driveTo, audit } = setup();
    await driveTo('backfill');
    for (let i = 0; i < 3; i++) use(i);
    const result = await migrator.expireLazy(id, { before: deadline, now: afterDeadline }, ops);
    expect(result).toMatchObject({ dryRun: false, expired: N - 3, remaining: 0, refused: [] });
    expect(collection.all()).toHaveLength(N);
    expect(collection.get(docId(5))).toMatchObject({ version: 2, doc: { firstName: 'First5', pinHashedAt: null, pinResetRequired: true } });
    expect(collection.get(docId(5))?.doc).not.toHaveProperty('pin');
    expect(collection.get(docId(1))).toMatchObject({ version: 2, doc: { pin: 'v2:1' } });
    expect((await audit()).at(-1)).toMatchObject({
      action: 'lazy-expire',
      actor: 'alice',
      reason: ops.reason,
      details: { before: '2026-03-01T00:00:00.000Z', expired: N - 3, remaining: 0, refused: 0, upgradedMeanwhile: 0 },
    });
    expect(await migrator.advance(id, ops)).toBe('verify');
    expect((await migrator.verify(id)).report.mismatches).toBe(0);
    expect(await migrator.advance(id, ops)).toBe('complete');
  });

  it('leaves alone a document the service upgrades while the expiry runs (compare-and-set), and counts it', async () => {
    const { migrator, collection, use, driveTo, hooks } = setup();
    await driveTo('backfill');
    let raced = false;
    hooks.beforeWrite = () => {
      if (raced) return;
      raced = true;
      use(7);
    };
    const result = await migrator.expireLazy(id, { before: deadline, now: afterDeadline }, ops);
    expect(result).toMatchObject({ expired: N - 1, upgradedMeanwhile: 1, remaining: 0 });
    expect(collection.get(docId(7))).toMatchObject({ version: 2, doc: { pin: 'v2:7' } });
  });

  it('leaves a document whose expired form fails verify as it is, and reports it', async () => {
    const broken = pinHashMigration({ strategy: { kind: 'lazy-only', upgradedWhen: 'at the next use of the PIN', expire: (doc) => (doc['pin'] === 'v1:4' ? { ...doc } : { ...doc, pinResetRequired: true }) } });
    const { migrator, collection, driveTo } = setup(broken);
    await driveTo('backfill');
    const result = await migrator.expireLazy(id, { before: deadline, now: afterDeadline }, ops);
    expect(result.refused).toEqual([{ id: docId(4), reason: 'verify failed: pin v1:... is not a v2 hash' }]);
    expect(result).toMatchObject({ expired: N - 1, remaining: 1 });
    expect(collection.get(docId(4))).toMatchObject({ version: 1, doc: { pin: 'v1:4' } });
    await expect(migrator.advance(id, ops)).rejects.toThrow(GateRefusedError);
  });

  it('renews its lease batch by batch, so an expiry that outlasts one lease lifetime still finishes', async () => {
    const { migrator, driveTo, hooks } = setup(def, 200);
    await driveTo('backfill');
    // 4 batches of 3, each 80 ms: 320 ms in all, past 0.8 of the 200 ms lease.
    hooks.beforeWrite = () => new Promise((resolve) => setTimeout(resolve, 80));
    const result = await migrator.expireLazy(id, { before: deadline, now: afterDeadline, batchSize: 3 }, ops);
    expect(result).toMatchObject({ expired: N, remaining: 0 });
  });
});
