import { roundTripCheck, verifyFailure } from '@zdm/migrations-core';
import { customerSnapshotMigration, moneyMigration, ordersRegistry, ordersReadRange } from './orders.migrations';

const v1 = (overrides: Record<string, unknown> = {}) => ({
  customerId: 'a'.repeat(24),
  customer: { firstName: 'Ada', lastName: 'Lovelace' },
  currency: 'EUR',
  lines: [
    { sku: 'BOOK', quantity: 2, unitPrice: 19.99 },
    { sku: 'PEN', quantity: 3, unitPrice: 0.1 },
  ],
  total: 40.28,
  status: 'placed',
  ...overrides,
});

/** What the runner does with a v1 document: up, then verify (a failure is the quarantine reason). */
const backfill = (doc: Record<string, unknown>) => {
  const next = moneyMigration.up(doc);
  return { next, quarantined: verifyFailure(moneyMigration, next) };
};

describe('orders.money (v1 -> v2)', () => {
  it('registers before orders.customer-snapshot; this build reads v1..v3', () => {
    expect(ordersRegistry().all().map((d) => d.id)).toEqual(['orders.money', 'orders.customer-snapshot']);
    expect(ordersReadRange(ordersRegistry())).toEqual({ readMin: 1, readMax: 3 });
  });

  it('adds the total and each line price in integer minor units with the currency, keeping the floats', () => {
    const { next, quarantined } = backfill(v1());
    expect(quarantined).toBeNull();
    expect(next).toEqual({
      ...v1(),
      totalMoney: { minor: 4028, currency: 'EUR' },
      items: [
        { sku: 'BOOK', quantity: 2, unitPrice: { minor: 1999, currency: 'EUR' } },
        { sku: 'PEN', quantity: 3, unitPrice: { minor: 10, currency: 'EUR' } },
      ],
    });
  });

  it.each([
    ['JPY', 1999, 3998, 1999],
    ['BHD', 1.234, 2.468, 1234],
  ])('converts %s at its exponent', (currency, unitPrice, total, minor) => {
    const { next, quarantined } = backfill(v1({ currency, lines: [{ sku: 'X', quantity: 2, unitPrice }], total }));
    expect(quarantined).toBeNull();
    expect(next['items']).toEqual([{ sku: 'X', quantity: 2, unitPrice: { minor, currency } }]);
  });

  it('takes float noise for the amount it is near (a v1 total summed in floats: 0.1 + 0.2)', () => {
    const { next, quarantined } = backfill(v1({ lines: [{ sku: 'A', quantity: 1, unitPrice: 0.1 }, { sku: 'B', quantity: 1, unitPrice: 0.2 }], total: 0.1 + 0.2 }));
    expect(quarantined).toBeNull();
    expect(next['totalMoney']).toEqual({ minor: 30, currency: 'EUR' });
  });

  it.each([
    ['19.999 EUR', v1({ lines: [{ sku: 'A', quantity: 1, unitPrice: 19.999 }], total: 19.999 }), 'lines.0.unitPrice 19.999 is not a whole number of EUR minor units (EUR has 2 decimals); it is not rounded; total 19.999 is not a whole number of EUR minor units (EUR has 2 decimals); it is not rounded'],
    ['a NaN total', v1({ total: NaN }), 'total must be a number, got NaN'],
    ['a negative price', v1({ lines: [{ sku: 'A', quantity: 1, unitPrice: -5 }], total: -5 }), 'lines.0.unitPrice must not be negative, got -5; total must not be negative, got -5'],
    ['a string price', v1({ lines: [{ sku: 'A', quantity: 1, unitPrice: '19.99' }], total: 19.99 }), 'lines.0.unitPrice must be a number, got string'],
    ['a missing currency', v1({ currency: undefined }), 'currency is missing'],
    ['an unknown currency', v1({ currency: 'XXX' }), 'currency "XXX" is not one of EUR, USD, GBP, CHF, SEK, JPY, KRW, BHD, KWD, JOD'],
    ['more than 2^53 minor units', v1({ currency: 'JPY', lines: [{ sku: 'A', quantity: 1, unitPrice: 2 ** 53 }], total: 2 ** 53 }), `lines.0.unitPrice ${2 ** 53} JPY is more than 2^53-1 minor units; total ${2 ** 53} JPY is more than 2^53-1 minor units`],
    ['a total that is not the sum of the lines', v1({ total: 40.27 }), 'total 40.27 EUR is not the sum of the lines (4028 minor units)'],
    ['no lines', v1({ lines: [] }), 'lines must be a non-empty array'],
    ['a line without quantity', v1({ lines: [{ sku: 'A', unitPrice: 1 }], total: 1 }), 'lines.0.quantity must be a whole number of at least 1, got nothing'],
  ])('leaves %s as it is, for verify to quarantine with the reason', (_what, doc, reason) => {
    const { next, quarantined } = backfill(doc);
    expect(next).toEqual(doc);
    expect(quarantined).toBe(`verify failed: ${reason}`);
  });

  it('converts a quarantined document once its fields are fixed', () => {
    const dirty = v1({ lines: [{ sku: 'A', quantity: 1, unitPrice: 19.999 }], total: 19.999 });
    const fixed = { ...dirty, lines: [{ sku: 'A', quantity: 1, unitPrice: 19.99 }], total: 19.99 };
    expect(backfill(fixed)).toMatchObject({ quarantined: null, next: { totalMoney: { minor: 1999, currency: 'EUR' } } });
  });

  it('verifies contracted documents, and that floats still present agree with the minor units', () => {
    const { next } = backfill(v1());
    const { total: _total, lines: _lines, ...contracted } = next;
    expect(verifyFailure(moneyMigration, contracted)).toBeNull();
    expect(verifyFailure(moneyMigration, { ...next, total: 40.29 })).toBe('verify failed: the floats no longer convert: total 40.29 EUR is not the sum of the lines (4028 minor units)');
    expect(verifyFailure(moneyMigration, { ...next, totalMoney: { minor: 4029, currency: 'EUR' } })).toBe('verify failed: totalMoney 4029 is not the sum of the items (4028)');
    expect(verifyFailure(moneyMigration, { ...contracted, totalMoney: { minor: 1.5, currency: 'EUR' } })).toMatch(/^verify failed: totalMoney must be \{ minor, currency: "EUR" \}/);
    expect(verifyFailure(moneyMigration, { ...contracted, items: [{ sku: 'BOOK', quantity: 2, unitPrice: { minor: 1999, currency: 'USD' } }] })).toMatch(/^verify failed: items.0 must be/);
  });

  it('goes back exactly with down() after contract for amounts v1 stored as their nearest float', () => {
    const docs = [v1(), v1({ currency: 'JPY', lines: [{ sku: 'X', quantity: 3, unitPrice: 1999 }], total: 5997 }), v1({ currency: 'BHD', lines: [{ sku: 'X', quantity: 1, unitPrice: 1.234 }], total: 1.234 })];
    expect(roundTripCheck(moneyMigration, docs.map((doc, i) => ({ id: String(i), doc })))).toEqual({ reversible: true, sampled: 3, failures: [] });
  });
});

describe('orders.customer-snapshot (v2 -> v3)', () => {
  const v2 = (customer: unknown) => ({ ...moneyMigration.up(v1()), customer });
  const run = (doc: Record<string, unknown>) => {
    const next = customerSnapshotMigration.up(doc);
    return { next, quarantined: verifyFailure(customerSnapshotMigration, next) };
  };

  it('waits for customers.full-name at switch-reads', () => {
    expect(customerSnapshotMigration.requires).toEqual([{ service: 'customers', migration: 'customers.full-name', phase: 'switch-reads' }]);
  });

  it.each([
    [{ firstName: 'Ada', lastName: 'Lovelace' }, 'Ada Lovelace'],
    [{ firstName: 'Mary Ann', lastName: 'Evans' }, 'Mary Ann Evans'],
    [{ firstName: 'Cher', lastName: '' }, 'Cher'],
  ])('joins %j as customers joins names: %s', (customer, fullName) => {
    const { next, quarantined } = run(v2(customer));
    expect(quarantined).toBeNull();
    expect(next).toMatchObject({ customer, customerSnapshot: { fullName } });
  });

  it('leaves a snapshot that is not two strings as it is, for verify to quarantine with the reason', () => {
    const { next, quarantined } = run(v2({ firstName: 'Ada' }));
    expect(next).not.toHaveProperty('customerSnapshot');
    expect(quarantined).toBe('verify failed: customer must be { firstName, lastName } (strings), got {"firstName":"Ada"}');
  });

  it('verifies a contracted document, and a disagreeing one fails', () => {
    const { next } = run(v2({ firstName: 'Ada', lastName: 'Lovelace' }));
    const { customer: _c, ...contracted } = next;
    expect(verifyFailure(customerSnapshotMigration, contracted)).toBeNull();
    expect(verifyFailure(customerSnapshotMigration, { ...next, customerSnapshot: { fullName: 'Ada King' } })).toBe('verify failed: customerSnapshot.fullName is not firstName and lastName joined ("Ada Lovelace")');
  });

  it('has no down(): a full name cannot be split back exactly, so it is irreversible past contract', () => {
    expect(customerSnapshotMigration.down).toBeUndefined();
    expect(roundTripCheck(customerSnapshotMigration, [{ id: '1', doc: v2({ firstName: 'Mary Ann', lastName: 'Evans' }) }]).reversible).toBe(false);
  });
});
