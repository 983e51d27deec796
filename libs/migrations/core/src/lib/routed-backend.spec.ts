import { MigrationBackend } from './migrator';
import { createInMemoryControlStore } from './in-memory-control-store';
import { routeByTargetKind } from './routed-backend';
import { fullNameMigration } from './testing/migration.fixtures';
import { TargetItem } from './backfill-runner';

describe('routeByTargetKind', () => {
  const store = createInMemoryControlStore();
  const fake = (name: string, extra: Partial<MigrationBackend> = {}): MigrationBackend => ({
    store,
    counts: async () => ({ belowTarget: name.length, withOldFields: 0, quarantined: 0 }),
    target: () => {
      throw new Error(`${name} target`);
    },
    sample: async () => [{ id: name, doc: {} }],
    ...extra,
  });
  const mongoDef = fullNameMigration();
  const redisDef = fullNameMigration({ id: 'sessions.x', target: { kind: 'redis', keyPattern: 's:*', versioning: 'value' } });

  it('sends each migration to the backend of its target kind, over one control store', async () => {
    const routed = routeByTargetKind(store, { mongo: fake('mongo'), redis: fake('redis!') });
    expect(routed.store).toBe(store);
    expect((await routed.counts(mongoDef)).belowTarget).toBe(5);
    expect((await routed.counts(redisDef)).belowTarget).toBe(6);
    expect(await routed.sample(redisDef, 1)).toEqual([{ id: 'redis!', doc: {} }]);
    expect(() => routed.target(mongoDef, 'backfill')).toThrow('mongo target');
  });

  it('uses a backend’s own contract and rollback steps, core’s otherwise, and clears undo records in every backend', async () => {
    const skip = () => ({ kind: 'skip' as const });
    const routed = routeByTargetKind(store, { mongo: fake('mongo', { clearUndo: async () => 2 }), redis: fake('redis', { contractStep: () => skip, unexpandStep: () => skip }) });
    const item: TargetItem = { id: '1', version: 2, doc: { firstName: 'a', lastName: 'b', fullName: 'a b' }, cas: null };
    expect(routed.contractStep?.(redisDef)(item)).toEqual({ kind: 'skip' });
    expect(routed.contractStep?.(mongoDef)(item)).toMatchObject({ kind: 'write' });
    expect(routed.unexpandStep?.(mongoDef)(item)).toMatchObject({ kind: 'write', version: 1 });
    expect(await routed.clearUndo?.('x')).toBe(2);
  });

  it('names the migration and the kinds it has when a target has no backend', () => {
    const routed = routeByTargetKind(store, { mongo: fake('mongo') });
    expect(() => routed.counts(redisDef)).toThrow('sessions.x: no backend for redis targets here (only mongo)');
  });
});
