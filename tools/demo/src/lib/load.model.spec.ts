import { AckedWrites, emptyRequestLog, isFailure, logRequest, pickKind, serviceLog, serviceOfKind } from './load.model';
import { CUSTOMERS_MIX, nameFor } from './services/customers.traffic';

describe('pickKind', () => {
  it('splits [0, 1) by the weights, in the order of the mix', () => {
    const mix = { 'customers.read': 2, 'customers.list': 0, 'orders.place': 1, 'orders.read': 1 };
    expect(pickKind(mix, 0)).toBe('customers.read');
    expect(pickKind(mix, 0.49)).toBe('customers.read');
    expect(pickKind(mix, 0.5)).toBe('orders.place');
    expect(pickKind(mix, 0.75)).toBe('orders.read');
    expect(pickKind(mix, 0.999999)).toBe('orders.read');
  });

  it('follows the customers mix over many draws', () => {
    const kinds = Object.keys(CUSTOMERS_MIX) as (keyof typeof CUSTOMERS_MIX)[];
    const counts: Record<string, number> = Object.fromEntries(kinds.map((k) => [k, 0]));
    for (let i = 0; i < 10_000; i++) counts[pickKind(CUSTOMERS_MIX, i / 10_000)]++;
    const total = Object.values(CUSTOMERS_MIX).reduce((a, b) => a + b, 0);
    for (const k of kinds) expect(counts[k] / 10_000).toBeCloseTo(CUSTOMERS_MIX[k] / total, 2);
  });

  it('refuses a mix without a positive weight', () => {
    expect(() => pickKind({ 'customers.read': 0, 'customers.update': -1 }, 0.5)).toThrow('at least one positive weight');
  });
});

describe('the request log', () => {
  it('names each kind once and splits out one service\'s requests', () => {
    const log = emptyRequestLog();
    logRequest(log, 'customers.read', 0, 5, 200);
    logRequest(log, 'orders.place', 10, 7, 201);
    logRequest(log, 'customers.read', 20, 9, 503);
    expect(log.kinds).toEqual(['customers.read', 'orders.place']);
    expect(log.kind).toEqual([0, 1, 0]);
    expect(serviceLog(log, 'customers')).toEqual({ kinds: ['customers.read'], startMs: [0, 20], latencyMs: [5, 9], status: [200, 503], kind: [0, 0] });
    expect(serviceLog(log, 'orders').status).toEqual([201]);
    expect(serviceOfKind('orders.transition')).toBe('orders');
  });
});

describe('AckedWrites', () => {
  it('remembers the last acknowledged value of each customer', () => {
    const w = new AckedWrites<{ firstName: string; lastName: string }>();
    w.seed('a', { firstName: 'Ada', lastName: 'Lovelace' });
    w.created('b', { firstName: 'Grace', lastName: 'Hopper' });
    expect(w.begin('a')).toBe(true);
    w.end('a', 'acked', { firstName: 'Ada', lastName: 'King' });
    expect(w.expected('a')).toEqual({ firstName: 'Ada', lastName: 'King' });
    expect(w.entries()).toEqual([
      ['a', { firstName: 'Ada', lastName: 'King' }],
      ['b', { firstName: 'Grace', lastName: 'Hopper' }],
    ]);
    expect(w.counts()).toEqual({ seeded: 1, created: 1, updated: 1, unknownOutcome: 0, documents: 2 });
  });

  it('allows one write in flight per customer, and knows no expected value meanwhile', () => {
    const w = new AckedWrites<{ firstName: string; lastName: string }>();
    w.seed('a', { firstName: 'Ada', lastName: 'Lovelace' });
    const epoch = w.epoch('a');
    expect(w.begin('a')).toBe(true);
    expect(w.begin('a')).toBe(false);
    expect(w.expected('a')).toBeUndefined();
    expect(w.epoch('a')).toBe(epoch + 1);
    w.end('a', 'rejected');
    expect(w.expected('a')).toEqual({ firstName: 'Ada', lastName: 'Lovelace' });
  });

  it('leaves a customer whose write outcome is unknown out of the read-back until a later write is acknowledged', () => {
    const w = new AckedWrites<{ firstName: string; lastName: string }>();
    w.seed('a', { firstName: 'Ada', lastName: 'Lovelace' });
    w.begin('a');
    w.end('a', 'unknown');
    expect(w.expected('a')).toBeUndefined();
    expect(w.entries()).toEqual([]);
    expect(w.counts().unknownOutcome).toBe(1);
    w.begin('a');
    w.end('a', 'acked', { firstName: 'Ada', lastName: 'Byron' });
    expect(w.entries()).toEqual([['a', { firstName: 'Ada', lastName: 'Byron' }]]);
  });

  it('picks known customers by a number in [0, 1)', () => {
    const w = new AckedWrites<{ firstName: string; lastName: string }>();
    expect(w.pick(0.5)).toBeUndefined();
    for (const id of ['a', 'b', 'c', 'd']) w.seed(id, { firstName: id, lastName: '' });
    expect([0, 0.25, 0.5, 0.99].map((r) => w.pick(r))).toEqual(['a', 'b', 'c', 'd']);
  });
});

describe('nameFor', () => {
  it('gives a different name to every write number', () => {
    const names = new Set(Array.from({ length: 500 }, (_, i) => JSON.stringify(nameFor(i, (i * 37) % 100 / 100))));
    expect(names.size).toBe(500);
  });

  it('never puts a space in a last name, nor in a first name without a last name', () => {
    for (let i = 0; i < 500; i++) {
      const n = nameFor(i, (i % 14) / 14);
      expect(n.lastName).not.toContain(' ');
      if (!n.lastName) expect(n.firstName).not.toContain(' ');
    }
  });
});

describe('isFailure', () => {
  it('counts no answer and every non-2xx status as a failure', () => {
    expect([0, 199, 200, 201, 204, 299, 300, 404, 409, 500, 502].map(isFailure)).toEqual([true, true, false, false, false, false, true, true, true, true, true]);
  });
});
