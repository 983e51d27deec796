import { CURRENCY_EXPONENTS, ORDERS_COLLECTION, ORDERS_SERVICE, joinName, moneyMigration, ordersMigrations, storedOrder, toMajorUnits } from '@zdm/orders-domain';
import { mongo } from 'mongoose';
import { seedDocuments } from '../seed';
import { jwksUrlBehind, type DemoService, type QuarantineFix } from './demo.service';
import { ORDERS_MIX, OrderValue, checkOrder, orderFor } from './orders.traffic';

/**
 * One order in 200 is dirty, as old data is: an amount with no exact minor units (19.999), a
 * negative total, a string, an amount past 2^53 minor units. The money migration quarantines each
 * with its reason. (No NaN: FerretDB 1.x closes the connection on a NaN, so it cannot be seeded;
 * the migration's own tests cover it.)
 */
export const DIRTY_EVERY = 200;
const DIRTY_TOTALS: unknown[] = [19.999, -5, '19.99', 1e300];

/** Σ quantity × unit price of a stored v1 order, in major units, or undefined when a line is not a clean price. */
export function totalOfLines(doc: Record<string, unknown>): number | undefined {
  const currency = String(doc['currency']);
  const exponent = CURRENCY_EXPONENTS[currency];
  const lines = doc['lines'];
  if (exponent === undefined || !Array.isArray(lines)) return undefined;
  let minor = 0;
  for (const line of lines as { quantity?: unknown; unitPrice?: unknown }[]) {
    const units = typeof line.unitPrice === 'number' ? Math.round(line.unitPrice * 10 ** exponent) : NaN;
    if (!Number.isInteger(line.quantity) || !Number.isFinite(units) || Math.abs(units - (line.unitPrice as number) * 10 ** exponent) > 1e-6) return undefined;
    minor += (line.quantity as number) * units;
  }
  return toMajorUnits(minor, currency);
}

/** The orders service in the demo: money as float major units at v1, walked to integer minor units (orders.money). */
export const ordersService: DemoService = {
  name: ORDERS_SERVICE,
  collection: ORDERS_COLLECTION,
  // orders.money only: orders.customer-snapshot waits for customers.full-name at switch-reads through the
  // customers schema endpoint, which the demo's zdm driver does not point the orders config at yet.
  migrations: ordersMigrations.filter((d) => d.id === moneyMigration.id),
  async seed(db, count, { seeded }) {
    const customers = seeded['customers']?.seeds ?? [];
    if (!customers.length) throw new Error('orders are seeded for customers: seed customers first');
    const customerIds = customers.slice(0, 500).map(([id]) => id);
    const isDirty = (i: number) => i % DIRTY_EVERY === DIRTY_EVERY - 1;
    const seeds = await seedDocuments({
      db,
      collection: ORDERS_COLLECTION,
      count,
      make: (i) => {
        const [customerId, name] = customers[i % customers.length];
        const placed = orderFor(customerId, 1_000_000 + i, ((i * 7919) % 1000) / 1000);
        const exponent = CURRENCY_EXPONENTS[placed.currency];
        const lines = placed.lines.map((l) => ({ sku: l.sku, quantity: l.quantity, unitPriceMinor: Math.round(l.unitPrice * 10 ** exponent) }));
        const totalMinor = lines.reduce((sum, l) => sum + l.quantity * l.unitPriceMinor, 0);
        const [firstName, lastName] = [String(name['firstName']), String(name['lastName'])];
        const customer = { firstName, lastName, fullName: joinName(firstName, lastName) };
        const doc = storedOrder({ customerId, customer, currency: placed.currency, lines, totalMinor, status: 'placed' }, { version: 1, writeOld: true }).set;
        if (isDirty(i)) doc['total'] = DIRTY_TOTALS[Math.floor(i / DIRTY_EVERY) % DIRTY_TOTALS.length];
        const value: OrderValue = { customerId, currency: placed.currency, total: doc['total'] as number, status: 'placed' };
        return { doc, value: { ...value } };
      },
    });
    // Dirty orders are nobody's acknowledged write: the load leaves them alone, the fix path mends them.
    return { service: ORDERS_SERVICE, seeds: seeds.filter((_, i) => !isDirty(i)), options: { customerIds, dirty: seeds.filter((_, i) => isDirty(i)).map(([id]) => id) } };
  },
  mix: ORDERS_MIX,
  check: (expected: OrderValue, body) => checkOrder(expected, body),
  inconsistency: 'order(s) whose integer amount is not their total',
  env: ({ lbUrl }) => ({ CUSTOMERS_URL: lbUrl, AUTH_JWKS_URL: jwksUrlBehind(lbUrl) }),
  /**
   * What an operator does (docs/tutorials/02-change-a-type.md): list what was quarantined and why,
   * work out each order's total again from its lines (the lines are right, the stored total is not),
   * set it with `zdm quarantine patch` (audited; it re-runs the document), and count what stays.
   */
  async fixQuarantine({ zdm, migration, db, log }): Promise<QuarantineFix> {
    // `zdm quarantine list` exits 6 while the list is not empty: its result line is what counts.
    const listing = zdm.start(['quarantine', 'list', migration], `see what ${migration} quarantined`);
    const listed = (await listing.done).result;
    if (!listed || !Array.isArray(listed['entries'])) throw new Error(`zdm quarantine list ${migration} gave no list; see ${listing.proc.logFile}`);
    const entries = listed['entries'] as { docId: string; reason: string }[];
    const reasons: Record<string, number> = {};
    for (const e of entries) reasons[e.reason] = (reasons[e.reason] ?? 0) + 1;
    log(`${entries.length} quarantined by ${migration}: ${Object.entries(reasons).map(([r, c]) => `${r} × ${c}`).join('; ')}`);
    let fixed = 0;
    for (const e of entries) {
      const doc = await db.collection(ORDERS_COLLECTION).findOne({ _id: mongo.ObjectId.isValid(e.docId) ? new mongo.ObjectId(e.docId) : (e.docId as never) });
      const total = doc ? totalOfLines(doc) : undefined;
      if (total === undefined) {
        log(`${e.docId}: its lines do not give a total either; left quarantined`);
        continue;
      }
      const patch = zdm.start(['quarantine', 'patch', migration, e.docId, '--set', `total=${JSON.stringify(total)}`], `the stored total was ${JSON.stringify(doc?.['total'])}; set to the sum of the lines`);
      const outcome = await patch.done;
      if (outcome.exitCode === 0) fixed++;
      else log(`${e.docId}: zdm quarantine patch exited ${outcome.exitCode ?? outcome.signal} (${String(outcome.result?.['error'] ?? outcome.result?.['reason'] ?? `see ${patch.proc.logFile}`)})`);
    }
    return { found: entries.length, fixed, reasons };
  },
};
