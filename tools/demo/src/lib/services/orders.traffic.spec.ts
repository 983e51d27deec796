import { checkOrder, orderFor } from './orders.traffic';
import { totalOfLines } from './orders.service';
import { checkCustomer } from './customers.traffic';

const order = { customerId: 'c1', currency: 'EUR', total: 39.98, status: 'paid' as const };

describe('checkOrder', () => {
  it('accepts an order with its acknowledged total, currency, customer and status, with or without an integer amount', () => {
    expect(checkOrder(order, { ...order, id: 'o1' })).toBeNull();
    expect(checkOrder(order, { ...order, totalMoney: { minor: 3998, currency: 'EUR' } })).toBeNull();
    expect(checkOrder({ ...order, currency: 'BHD', total: 12.345 }, { ...order, currency: 'BHD', total: 12.345, totalMoney: { minor: 12345, currency: 'BHD' } })).toBeNull();
  });

  it('calls another total, status or customer a lost write', () => {
    expect(checkOrder(order, { ...order, total: 39.97 })).toBe('lost');
    expect(checkOrder(order, { ...order, status: 'placed' })).toBe('lost');
    expect(checkOrder(order, { ...order, customerId: 'c2' })).toBe('lost');
    expect(checkOrder(order, { ...order, total: '39.98' })).toBe('lost');
  });

  it('calls an integer total that is missing or not the total inconsistent', () => {
    expect(checkOrder(order, { ...order, totalMoney: null })).toBe('inconsistent');
    expect(checkOrder(order, { ...order, totalMoney: { minor: 3999, currency: 'EUR' } })).toBe('inconsistent');
    expect(checkOrder(order, { ...order, totalMoney: { minor: 3998, currency: 'USD' } })).toBe('inconsistent');
  });
});

describe('orderFor', () => {
  it('places one to three lines in one currency, each price exact in that currency', () => {
    const orders = Array.from({ length: 40 }, (_, i) => orderFor('c1', i, (i * 37) % 100 / 100));
    expect(new Set(orders.map((o) => o.currency))).toEqual(new Set(['EUR', 'USD', 'JPY', 'BHD']));
    for (const o of orders) {
      expect(o.lines.length).toBeGreaterThanOrEqual(1);
      expect(o.lines.length).toBeLessThanOrEqual(3);
      const exponent = { JPY: 0, BHD: 3 }[o.currency] ?? 2;
      for (const l of o.lines) expect(Number.isInteger(Math.round(l.unitPrice * 10 ** exponent))).toBe(true);
      for (const l of o.lines) expect(Math.abs(l.unitPrice * 10 ** exponent - Math.round(l.unitPrice * 10 ** exponent))).toBeLessThan(1e-6);
    }
  });
});

describe('checkCustomer', () => {
  it('calls other names lost, and a fullName that is not the names joined inconsistent', () => {
    const ada = { firstName: 'Ada', lastName: 'Lovelace' };
    expect(checkCustomer(ada, { ...ada })).toBeNull();
    expect(checkCustomer(ada, { ...ada, fullName: 'Ada Lovelace' })).toBeNull();
    expect(checkCustomer(ada, { ...ada, lastName: 'King' })).toBe('lost');
    expect(checkCustomer(ada, { ...ada, fullName: 'Ada King' })).toBe('inconsistent');
  });
});

describe('totalOfLines (the fix for a quarantined order)', () => {
  it('sums the lines in minor units of the currency, and gives up on a line that is not a clean price', () => {
    expect(totalOfLines({ currency: 'EUR', lines: [{ quantity: 2, unitPrice: 19.99 }, { quantity: 3, unitPrice: 0.1 }], total: 19.999 })).toBe(40.28);
    expect(totalOfLines({ currency: 'BHD', lines: [{ quantity: 4, unitPrice: 12.345 }, { quantity: 1, unitPrice: 1.005 }] })).toBe(50.385);
    expect(totalOfLines({ currency: 'JPY', lines: [{ quantity: 3, unitPrice: 1200 }] })).toBe(3600);
    expect(totalOfLines({ currency: 'EUR', lines: [{ quantity: 1, unitPrice: 19.999 }] })).toBeUndefined();
    expect(totalOfLines({ currency: 'XXX', lines: [] })).toBeUndefined();
  });
});
