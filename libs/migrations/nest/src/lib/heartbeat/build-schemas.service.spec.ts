import { MigrationRegistry } from '@zdm/migrations-core';
import { StaticFlagSource } from '../flags/static.flag-source';
import { customersRegistry, emailsMigration, fullNameMigration, fullRegistry } from '../../testing/customers-migrations.fixture';
import { BuildSchemas, defaultReadRanges, readRangeProblems, writeVersionOf } from './build-schemas.service';

const on = (...flags: string[]) => (flag: string) => flags.includes(flag);

describe('read ranges', () => {
  it('default to each target of the service, from its first step to its last', () => {
    expect(defaultReadRanges(fullRegistry(), 'customers')).toEqual({
      customers: { readMin: 1, readMax: 3 },
      'session:*': { readMin: 1, readMax: 2 },
    });
  });

  it('leave out the targets of other services', () => {
    expect(Object.keys(defaultReadRanges(fullRegistry(), 'orders'))).toEqual(['orders']);
  });

  it('are refused when a step in between is not registered, or the bounds are wrong', () => {
    const registry = customersRegistry();
    expect(readRangeProblems(registry, { customers: { readMin: 1, readMax: 3 } })[0]).toMatch(/customers: reading v1\.\.v3 needs every step.*1->2/);
    expect(readRangeProblems(registry, { customers: { readMin: 2, readMax: 1 } })[0]).toMatch(/readMin \(2\) is above readMax \(1\)/);
    expect(readRangeProblems(registry, { customers: { readMin: 0, readMax: 1.5 } })[0]).toMatch(/integers >= 1/);
    expect(readRangeProblems(registry, { customers: { readMin: 1, readMax: 2 }, other: { readMin: 1, readMax: 1 } })).toEqual([]);
  });
});

describe('write version', () => {
  const registry = fullRegistry();
  const range = { readMin: 1, readMax: 3 };

  it('is the oldest readable version while the write-new flag is off', () => {
    expect(writeVersionOf(registry, 'customers', range, on())).toBe(1);
  });

  it('moves up one step per migration whose write-new flag is on', () => {
    expect(writeVersionOf(registry, 'customers', range, on('customers.full-name.write-new'))).toBe(2);
    expect(writeVersionOf(registry, 'customers', range, on('customers.full-name.write-new', 'customers.emails.write-new'))).toBe(3);
  });

  it('does not skip a step whose flag is off', () => {
    expect(writeVersionOf(registry, 'customers', range, on('customers.emails.write-new'))).toBe(1);
  });

  it('is the only readable version for a build that reads one version, whatever the flags', () => {
    expect(writeVersionOf(registry, 'customers', { readMin: 2, readMax: 2 }, on())).toBe(2);
    expect(writeVersionOf(registry, 'customers', { readMin: 1, readMax: 1 }, on('customers.full-name.write-new'))).toBe(1);
  });
});

describe('BuildSchemas', () => {
  it('reports per-target support and the flags seen in its heartbeat', () => {
    const registry = MigrationRegistry.create([fullNameMigration, emailsMigration]);
    const flags = StaticFlagSource.withSafeDefaults(registry.all(), { 'customers.full-name.write-new': true });
    const schemas = new BuildSchemas(registry, { customers: { readMin: 1, readMax: 3 } }, flags);
    const at = new Date('2030-01-01T00:00:00Z');
    expect(schemas.heartbeat({ service: 'customers', instanceId: 'a', build: 'b1' }, at)).toEqual({
      service: 'customers',
      instanceId: 'a',
      build: 'b1',
      schemas: { customers: { readMin: 1, readMax: 3, writes: 2 } },
      flags: {
        'customers.full-name.write-new': true,
        'customers.full-name.read-new': false,
        'customers.full-name.write-old': true,
        'customers.emails.write-new': false,
        'customers.emails.read-new': false,
        'customers.emails.write-old': true,
      },
      at,
    });
  });

  it('follows flag changes in its write version', () => {
    const registry = customersRegistry();
    const flags = StaticFlagSource.withSafeDefaults(registry.all());
    const schemas = new BuildSchemas(registry, defaultReadRanges(registry, 'customers'), flags);
    expect(schemas.writeVersion('customers')).toBe(1);
    flags.set('customers.full-name.write-new', true);
    expect(schemas.writeVersion('customers')).toBe(2);
  });

  it('refuses invalid ranges at construction and unknown targets when asked', () => {
    const registry = customersRegistry();
    const flags = new StaticFlagSource();
    expect(() => new BuildSchemas(registry, { customers: { readMin: 1, readMax: 5 } }, flags)).toThrow(/Invalid read ranges:\n {2}- customers/);
    const schemas = new BuildSchemas(registry, { customers: { readMin: 1, readMax: 2 } }, flags);
    expect(() => schemas.writeVersion('orders')).toThrow('No read range declared for "orders". Declared: customers');
  });
});
