import { Doc, MigrationDefinition, MigrationRegistry, defineMigration } from '@zdm/migrations-core';
import { toMajorUnits } from './money';
import { joinName, newSnapshotProblem, oldSnapshot } from './customer-snapshot';
import { convertMoney, StoredItem, storedMoneyProblem } from './order-money';

/** The MongoDB collection holding orders; migrations of orders target it. */
export const ORDERS_COLLECTION = 'orders';

/** The service name migrations, heartbeats and gates use. */
export const ORDERS_SERVICE = 'orders';

const target = { kind: 'mongo', collection: ORDERS_COLLECTION } as const;

/**
 * v1 -> v2, expand/contract, a type change: money from float major units (`total: 19.99`,
 * `lines[].unitPrice`) to integer minor units with their ISO 4217 currency (`totalMoney: { minor:
 * 1999, currency: 'EUR' }`, `items[].unitPrice`). The floats stay until contract (`total` and `lines`
 * are the removed fields; `items` repeats each line's sku and quantity beside its price).
 *
 * Nothing is rounded: a document whose floats are not exactly a whole number of minor units (19.999
 * EUR), or are negative, NaN, not numbers, too large, in a missing or unknown currency, or whose total
 * is not the sum of its lines, is left as it is by `up` (so readers still serve it), and `verify`
 * states why; the runner quarantines it with that reason and the gates hold until an operator fixes
 * it (`zdm quarantine patch`) and it is re-run.
 */
export const moneyMigration = defineMigration<Doc, Doc>({
  id: 'orders.money',
  description: 'money from float major units to integer minor units + ISO 4217 currency (totalMoney, items[].unitPrice); unconvertible documents are quarantined, never rounded',
  service: ORDERS_SERVICE,
  target,
  from: 1,
  to: 2,
  strategy: { kind: 'expand-contract' },
  up: (doc) => {
    const money = convertMoney(doc);
    return money.ok ? { ...doc, totalMoney: money.totalMoney, items: money.items } : doc;
  },
  down: (doc) => {
    const { totalMoney, items, ...rest } = doc;
    const currency = doc['currency'] as string;
    return {
      ...rest,
      total: toMajorUnits((totalMoney as StoredItem['unitPrice']).minor, currency),
      lines: (items as StoredItem[]).map((item) => ({ sku: item.sku, quantity: item.quantity, unitPrice: toMajorUnits(item.unitPrice.minor, currency) })),
    };
  },
  verify: (doc) => {
    if (doc['totalMoney'] === undefined && doc['items'] === undefined) {
      const money = convertMoney(doc);
      return money.ok ? 'totalMoney and items are missing' : money.problems.join('; ');
    }
    const problem = storedMoneyProblem(doc);
    if (problem) return problem;
    // While the floats are still there, they must say exactly the same amounts.
    if (doc['total'] === undefined && doc['lines'] === undefined) return true;
    const old = convertMoney(doc);
    if (!old.ok) return `the floats no longer convert: ${old.problems.join('; ')}`;
    const items = doc['items'] as StoredItem[];
    const same =
      old.totalMoney.minor === (doc['totalMoney'] as StoredItem['unitPrice']).minor &&
      old.items.length === items.length &&
      old.items.every((item, i) => item.sku === items[i].sku && item.quantity === items[i].quantity && item.unitPrice.minor === items[i].unitPrice.minor);
    return same || 'total/lines and totalMoney/items disagree';
  },
  removedFields: ['total', 'lines'],
  addedFields: ['totalMoney', 'items'],
});

/** Where the customers service stores names the new way; orders follows it. */
export const CUSTOMERS_FULL_NAME = { service: 'customers', migration: 'customers.full-name', phase: 'switch-reads' } as const;

/**
 * v2 -> v3, expand/contract, driven by the customers service's change: the embedded customer snapshot
 * `customer: { firstName, lastName }` becomes `customerSnapshot: { fullName }`, joined as customers joins
 * names. It leaves no phase, pending included, before customers reports `customers.full-name` at
 * switch-reads or later (its readers then take fullName as the truth), asked through the customers
 * service's schema endpoint. No `down`: a full name cannot be split back exactly ("Mary Ann Evans"), so
 * it is irreversible past contract, and the tooling says so. A document whose snapshot is not two
 * strings is left as it is and quarantined with the reason.
 */
export const customerSnapshotMigration = defineMigration<Doc, Doc>({
  id: 'orders.customer-snapshot',
  description: 'customer snapshot { firstName, lastName } -> customerSnapshot { fullName }, once customers.full-name is at switch-reads',
  service: ORDERS_SERVICE,
  target,
  from: 2,
  to: 3,
  strategy: { kind: 'expand-contract' },
  requires: [CUSTOMERS_FULL_NAME],
  up: (doc) => {
    const old = oldSnapshot(doc);
    return old ? { ...doc, customerSnapshot: { fullName: joinName(old.firstName, old.lastName) } } : doc;
  },
  verify: (doc) => {
    const problem = newSnapshotProblem(doc);
    if (problem) return oldSnapshot(doc) || doc['customer'] === undefined ? problem : `customer must be { firstName, lastName } (strings), got ${JSON.stringify(doc['customer'])}`;
    const old = oldSnapshot(doc);
    if (!old) return doc['customer'] === undefined ? true : `customer must be { firstName, lastName } (strings), got ${JSON.stringify(doc['customer'])}`;
    const joined = joinName(old.firstName, old.lastName);
    return (doc['customerSnapshot'] as { fullName: string }).fullName === joined || `customerSnapshot.fullName is not firstName and lastName joined (${JSON.stringify(joined)})`;
  },
  removedFields: ['customer'],
  addedFields: ['customerSnapshot'],
});

/** Every migration this build of the orders service knows, registered explicitly, in order. */
export const ordersMigrations: readonly MigrationDefinition[] = [moneyMigration, customerSnapshotMigration];

/** The validated registry of {@link ordersMigrations}; throws at startup if the chain is broken. */
export function ordersRegistry(): MigrationRegistry {
  return MigrationRegistry.create(ordersMigrations);
}

/** The order document versions this build reads: from v1 up to the last registered step. */
export function ordersReadRange(registry: MigrationRegistry): { readMin: number; readMax: number } {
  return { readMin: 1, readMax: registry.latestVersion(ORDERS_COLLECTION) };
}
