import { moneyShapesDisagree } from './order-money';
import { Order, readOrder, storedOrder } from './order-shapes';

const order: Order = {
  customerId: 'a'.repeat(24),
  customer: { firstName: 'Ada', lastName: 'Lovelace', fullName: 'Ada Lovelace' },
  currency: 'EUR',
  lines: [{ sku: 'BOOK', quantity: 2, unitPriceMinor: 1999 }],
  totalMinor: 3998,
  status: 'placed',
};
const eur = (minor: number) => ({ minor, currency: 'EUR' });

describe('storedOrder', () => {
  it('stores v1 as float major units only', () => {
    expect(storedOrder(order, { version: 1, writeOld: true })).toEqual({
      set: { customerId: order.customerId, customer: { firstName: 'Ada', lastName: 'Lovelace' }, currency: 'EUR', status: 'placed', total: 39.98, lines: [{ sku: 'BOOK', quantity: 2, unitPrice: 19.99 }] },
      unset: ['customerSnapshot', 'totalMoney', 'items'],
    });
  });

  it('stores v2 as minor units, with the floats while write-old is on', () => {
    const both = storedOrder(order, { version: 2, writeOld: true });
    expect(both.set).toMatchObject({ totalMoney: eur(3998), items: [{ sku: 'BOOK', quantity: 2, unitPrice: eur(1999) }], total: 39.98, lines: [{ unitPrice: 19.99 }] });
    expect(both.unset).toEqual(['customerSnapshot']);
    const contracted = storedOrder(order, { version: 2, writeOld: false });
    expect(contracted.set).not.toHaveProperty('total');
    expect(contracted.unset).toEqual(['customerSnapshot', 'total', 'lines']);
  });
});

describe('readOrder', () => {
  const v1 = storedOrder(order, { version: 1, writeOld: true }).set;
  const v2 = storedOrder(order, { version: 2, writeOld: true }).set;
  const contracted = storedOrder(order, { version: 2, writeOld: false }).set;
  const view = { total: 39.98, totalMoney: eur(3998), lines: [{ sku: 'BOOK', quantity: 2, unitPrice: 19.99, unitPriceMoney: eur(1999) }] };

  it('reads the same order from every shape, with either read plan', () => {
    for (const doc of [v1, v2, contracted]) for (const readNew of [false, true]) expect(readOrder(doc, { readNew })).toMatchObject(view);
  });

  it('serves a v1 order whose floats do not convert as stored, with no minor units', () => {
    const dirty = { ...v1, total: 19.999, lines: [{ sku: 'A', quantity: 1, unitPrice: 19.999 }] };
    expect(readOrder(dirty, { readNew: true })).toMatchObject({ total: 19.999, totalMoney: null, lines: [{ unitPrice: 19.999, unitPriceMoney: null }] });
  });

  it('takes the shape the plan prefers when both are there and disagree, and calls that a mismatch', () => {
    const split = { ...v2, total: 1, lines: [{ sku: 'BOOK', quantity: 1, unitPrice: 1 }] };
    expect(moneyShapesDisagree(split)).toBe(true);
    expect(moneyShapesDisagree(v2)).toBe(false);
    expect(moneyShapesDisagree(contracted)).toBe(false);
    expect(readOrder(split, { readNew: false }).total).toBe(1);
    expect(readOrder(split, { readNew: true }).total).toBe(39.98);
  });
});

describe('the customer snapshot (orders.customer-snapshot)', () => {
  it('stores { fullName } at v3, with { firstName, lastName } while write-old is on', () => {
    const both = storedOrder(order, { version: 3, writeOld: false, writeOldSnapshot: true });
    expect(both.set).toMatchObject({ customerSnapshot: { fullName: 'Ada Lovelace' }, customer: { firstName: 'Ada', lastName: 'Lovelace' } });
    const contracted = storedOrder(order, { version: 3, writeOld: false, writeOldSnapshot: false });
    expect(contracted.set).not.toHaveProperty('customer');
    expect(contracted.unset).toEqual(['customer', 'total', 'lines']);
  });

  it('reads the parts as stored while they are there, and splits a contracted full name at its last space', () => {
    const both = storedOrder({ ...order, customer: { firstName: 'Mary Ann', lastName: 'Evans', fullName: 'Mary Ann Evans' } }, { version: 3, writeOld: true, writeOldSnapshot: true }).set;
    expect(readOrder(both, { readNew: true, readNewSnapshot: true }).customer).toEqual({ firstName: 'Mary Ann', lastName: 'Evans', fullName: 'Mary Ann Evans' });
    const { customer: _gone, ...contracted } = both;
    expect(readOrder(contracted, { readNew: true, readNewSnapshot: false }).customer).toEqual({ firstName: 'Mary Ann', lastName: 'Evans', fullName: 'Mary Ann Evans' });
    expect(readOrder({ ...contracted, customerSnapshot: { fullName: 'Cher' } }, { readNew: true }).customer).toEqual({ firstName: 'Cher', lastName: '', fullName: 'Cher' });
  });
});
