import { describeControlStore } from '@zdm/migrations-core/testing';
import { setTimeout as sleep } from 'node:timers/promises';
import { useTestMongo } from '../test/ferretdb.fixture';
import { controlCollectionNames, createMongoControlStore } from './mongo-control.store';

jest.setTimeout(60_000);

const mongo = useTestMongo('control-store');
let cases = 0;

// Each case gets collections of its own (a prefix per case) on the suite's database. Lease expiry
// is read from the wall clock: a timer may fire a millisecond early, hence the 10 ms more.
describeControlStore('MongoDB', () => ({ store: createMongoControlStore(mongo.db, { prefix: `zdm_c${++cases}_` }), now: Date.now, elapse: (ms) => sleep(ms + 10) }), {
  exactTime: false,
});

describe('createMongoControlStore on its database', () => {
  it('reads without writing anything, not even its collections (so a dry run leaves no trace)', async () => {
    const untouched = createMongoControlStore(mongo.db, { prefix: 'zdmro_' });
    await untouched.state.load('m');
    await untouched.state.list();
    await untouched.leases.readCheckpoint('k');
    await untouched.audit.list('m');
    await untouched.quarantine.list('m');
    await untouched.quarantine.count('m');
    await untouched.heartbeats.live();
    const names = (await mongo.db.listCollections().toArray()).map((c) => c.name);
    expect(names.filter((n) => n.startsWith('zdmro_'))).toEqual([]);
  });

  it('creates its indexes idempotently, also from a second store on the same database', async () => {
    const first = createMongoControlStore(mongo.db);
    const second = createMongoControlStore(mongo.db);
    await second.quarantine.remove('m.none', 'x');
    await first.quarantine.remove('m.none', 'x');
    const names = controlCollectionNames();
    const index = async (collection: string) => (await mongo.db.collection(collection).indexes()).map((i) => i.name);
    expect(await index(names.audit)).toContain('zdm_audit_by_migration');
    expect(await index(names.quarantine)).toContain('zdm_quarantine_by_migration');
    expect(await index(names.heartbeats)).toContain('zdm_expiry');
  });
});
