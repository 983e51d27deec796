import { customersReadRange, customersRegistry } from './customers.migrations';

describe('customers migrations of this build', () => {
  it('knows none, so it reads and writes customers v1 only', () => {
    const registry = customersRegistry();
    expect(registry.all()).toEqual([]);
    expect(customersReadRange(registry)).toEqual({ readMin: 1, readMax: 1 });
  });
});
