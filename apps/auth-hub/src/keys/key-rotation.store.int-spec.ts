import { integrationServices } from '@zdm/dev-services';
import mongoose, { type Connection, type mongo } from 'mongoose';
import type { KeyRotationState } from './key-rotation';
import { createMongoKeyRotationStore } from './key-rotation.store';

jest.setTimeout(60_000);

const services = integrationServices(['mongo']);

const state = (patch: Partial<KeyRotationState> = {}): KeyRotationState => ({
  id: 'auth.signing-key',
  phase: 'expand',
  from: 'k1',
  to: 'k2',
  revision: 0,
  startedAt: new Date('2026-12-04T10:00:00Z'),
  switchSeenAt: null,
  updatedAt: new Date('2026-12-04T10:00:00Z'),
  ...patch,
});

describe('the rotation record in MongoDB (FerretDB)', () => {
  let connection: Connection;
  beforeAll(async () => {
    connection = await mongoose.createConnection(services.mongo.url, { dbName: services.mongoDbName }).asPromise();
  });
  afterAll(() => connection?.close());

  it('is absent until saved, then read back whole with its dates', async () => {
    const store = createMongoKeyRotationStore(connection.db as mongo.Db);
    expect(await store.load('auth.signing-key')).toBeNull();
    expect(await store.save(state(), 0)).toBe(true);
    expect(await store.load('auth.signing-key')).toEqual(state({ revision: 1 }));
  });

  it('saves only over the revision it read: of racing saves at one revision exactly one wins, a stale one is refused', async () => {
    const store = createMongoKeyRotationStore(connection.db as mongo.Db);
    const id = 'race';
    const first = await Promise.all([0, 1, 2, 3].map(() => store.save(state({ id }), 0)));
    expect(first.filter(Boolean)).toHaveLength(1);
    const switched = state({ id, phase: 'switch', switchSeenAt: new Date('2026-12-04T10:05:00Z') });
    expect(await store.save(switched, 1)).toBe(true);
    expect(await store.save(state({ id, phase: 'contract' }), 1)).toBe(false);
    expect(await store.load(id)).toEqual({ ...switched, revision: 2 });
  });
});
