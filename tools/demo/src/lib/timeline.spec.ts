import { Timeline, phaseLabel, serviceOfMigration } from './timeline';

const at = (s: number) => new Date(Date.parse('2026-01-01T00:00:00Z') + s * 1000).toISOString();

describe('Timeline', () => {
  it('keeps one sequence of phases per service, so services migrating side by side do not cut each other short', () => {
    const t = new Timeline();
    t.enterPhase('customers.full-name', 'expand', at(0));
    t.enterPhase('orders.money', 'expand', at(1));
    t.enterPhase('customers.full-name', 'dual-write', at(2));
    t.enterPhase('customers.full-name', 'dual-write', at(3));
    expect(t.currentPhases).toEqual(['customers full-name:dual-write', 'orders money:expand']);
    t.enterPhase('customers.status', 'expand', at(4));
    t.closePhase(undefined, at(5));
    expect(t.phasesOf('customers')).toEqual([
      { name: 'full-name:expand', migration: 'customers.full-name', startedAt: at(0), endedAt: at(2) },
      { name: 'full-name:dual-write', migration: 'customers.full-name', startedAt: at(2), endedAt: at(4) },
      { name: 'status:expand', migration: 'customers.status', startedAt: at(4), endedAt: at(5) },
    ]);
    expect(t.phasesOf('orders')).toEqual([{ name: 'money:expand', migration: 'orders.money', startedAt: at(1), endedAt: at(5) }]);
    expect(t.currentPhases).toEqual([]);
  });

  it('never ends a phase before it started (clocks of two processes)', () => {
    const t = new Timeline();
    t.enterPhase('orders.money', 'backfill', at(10));
    t.closePhase('orders', at(9.99));
    expect(t.phases[0].endedAt).toBe(at(10));
  });

  it('labels a phase with the migration it belongs to, without the service', () => {
    expect(phaseLabel('orders.customer-snapshot', 'verify')).toBe('customer-snapshot:verify');
    expect(serviceOfMigration('orders.customer-snapshot')).toBe('orders');
  });
});
