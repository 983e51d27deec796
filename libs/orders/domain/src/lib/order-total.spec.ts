import { orderTotalCents } from './order-total';

describe('orderTotalCents', () => {
  it('sums quantity times unit price over all lines', () => {
    expect(orderTotalCents([{ sku: 'a', quantity: 2, unitPriceCents: 250 }, { sku: 'b', quantity: 1, unitPriceCents: 99 }])).toBe(599);
  });

  it('is zero for an empty order', () => {
    expect(orderTotalCents([])).toBe(0);
  });

  it('rejects a fractional or non-positive quantity, naming the line', () => {
    expect(() => orderTotalCents([{ sku: 'x', quantity: 0, unitPriceCents: 1 }])).toThrow(/line x: quantity/);
    expect(() => orderTotalCents([{ sku: 'y', quantity: 1.5, unitPriceCents: 1 }])).toThrow(/line y: quantity/);
  });

  it('rejects a negative price', () => {
    expect(() => orderTotalCents([{ sku: 'z', quantity: 1, unitPriceCents: -5 }])).toThrow(/unitPriceCents/);
  });
});
