import { InstanceHeartbeat } from '@zdm/migrations-core';
import { describeConflict, unreadableWrites } from './read-compatibility.check';

const beat = (instanceId: string, writes: number, extra: Partial<InstanceHeartbeat> = {}): InstanceHeartbeat => ({
  service: 'customers',
  instanceId,
  build: `build-${instanceId}`,
  schemas: { customers: { readMin: 1, readMax: 2, writes } },
  flags: {},
  at: new Date(),
  ...extra,
});

const self = { service: 'customers', instanceId: 'me' };

describe('unreadableWrites', () => {
  it('finds every live instance that writes above what a v1-only build reads', () => {
    const live = [beat('a', 2), beat('b', 2), beat('c', 1)];
    const conflicts = unreadableWrites(self, { customers: { readMin: 1, readMax: 1 } }, live);
    expect(conflicts.map((c) => c.instanceId)).toEqual(['a', 'b']);
    expect(describeConflict(conflicts[0])).toBe('instance a (build build-a) writes customers v2, but this build reads only v1..v1');
  });

  it('finds instances writing below what the build reads', () => {
    const conflicts = unreadableWrites(self, { customers: { readMin: 2, readMax: 2 } }, [beat('old', 1)]);
    expect(conflicts).toEqual([{ instanceId: 'old', build: 'build-old', target: 'customers', writes: 1, readMin: 2, readMax: 2 }]);
  });

  it('finds nothing when every write is within the read range', () => {
    expect(unreadableWrites(self, { customers: { readMin: 1, readMax: 2 } }, [beat('a', 1), beat('b', 2)])).toEqual([]);
  });

  it('ignores its own heartbeat, other services and targets it does not declare', () => {
    const live = [
      beat('me', 3),
      beat('orders-1', 3, { service: 'orders' }),
      beat('d', 0, { schemas: { sessions: { readMin: 1, readMax: 5, writes: 5 } } }),
    ];
    expect(unreadableWrites(self, { customers: { readMin: 1, readMax: 2 } }, live)).toEqual([]);
  });
});
