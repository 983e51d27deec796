import type { Doc } from '@zdm/migrations-core';
import { joinName, newSnapshotProblem, oldSnapshot, splitName } from './customer-snapshot';
import { Money, toMajorUnits, toMinorUnits } from './money';
import { convertMoney, StoredItem, storedMoneyProblem } from './order-money';
import { OrderStatus } from './order-status';

/** The customer as the order keeps it, copied from the customers API when the order is placed. */
export interface CustomerSnapshot {
  firstName: string;
  lastName: string;
  /** As the customers API gives it (API 1.1), or the parts joined as customers joins them. */
  fullName: string;
}

/** One line of an order, prices in integer minor units of the order's currency. */
export interface OrderLine {
  sku: string;
  quantity: number;
  unitPriceMinor: number;
}

/** An order as the service places it. */
export interface Order {
  customerId: string;
  customer: CustomerSnapshot;
  currency: string;
  lines: OrderLine[];
  totalMinor: number;
  status: OrderStatus;
}

/** How this instance writes right now; taken once per request from the flags. */
export interface OrderWritePlan {
  /** Document version to store (1 or 2), following the write-new flag of `orders.money`. */
  version: number;
  /** Whether v2 documents still carry the float `total` and `lines` for v1 readers (write-old flag of orders.money). */
  writeOld: boolean;
  /** Whether v3 documents still carry `customer: { firstName, lastName }` (write-old flag of orders.customer-snapshot). */
  writeOldSnapshot?: boolean;
}

/** How this instance reads right now. */
export interface OrderReadPlan {
  /** Whether money comes from the minor units (`totalMoney`, `items`; read-new flag) rather than the floats. */
  readNew: boolean;
  /** Whether the customer's name comes from `customerSnapshot.fullName` (read-new flag of orders.customer-snapshot). */
  readNewSnapshot?: boolean;
}

/** One line as the API shows it: the float price for every client, the minor units when there are some. */
export interface OrderLineView {
  sku: string;
  quantity: number;
  unitPrice: number;
  unitPriceMoney: Money | null;
}

/** An order as the service reads it, whatever shape it is stored in. */
export interface OrderView {
  customerId: string;
  customer: CustomerSnapshot;
  currency: string;
  lines: OrderLineView[];
  total: number;
  /** Null only for a stored v1 order whose floats cannot be converted exactly (quarantined by orders.money). */
  totalMoney: Money | null;
  status: OrderStatus;
}

/** The fields an insert stores and the managed fields it leaves out. */
export interface StoredOrderShape {
  set: Doc;
  unset: string[];
}

/** Σ quantity × unit price in minor units, or undefined when it exceeds 2^53 - 1. */
export function orderTotalMinor(lines: readonly Pick<OrderLine, 'quantity' | 'unitPriceMinor'>[]): number | undefined {
  const total = lines.reduce((sum, line) => sum + BigInt(line.quantity) * BigInt(line.unitPriceMinor), 0n);
  return total <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(total) : undefined;
}

const OLD_MONEY_FIELDS = ['total', 'lines'];
const NEW_MONEY_FIELDS = ['totalMoney', 'items'];

/**
 * What to store for a new `order` under `plan`: exactly the fields of the planned version.
 * - v1: money as float major units: `total: 19.99`, `lines: [{ sku, quantity, unitPrice: 19.99 }]`,
 *   each the float nearest to the exact amount.
 * - v2: `totalMoney: { minor, currency }` and `items: [{ sku, quantity, unitPrice: { minor, currency } }]`,
 *   plus the v1 floats while write-old is on.
 */
export function storedOrder(order: Order, plan: OrderWritePlan): StoredOrderShape {
  const set: Doc = { customerId: order.customerId, currency: order.currency, status: order.status };
  const unset: string[] = [];
  const oldCustomer = { firstName: order.customer.firstName, lastName: order.customer.lastName };
  if (plan.version >= 3) {
    set['customerSnapshot'] = { fullName: order.customer.fullName };
    if (plan.writeOldSnapshot ?? true) set['customer'] = oldCustomer;
    else unset.push('customer');
  } else {
    set['customer'] = oldCustomer;
    unset.push('customerSnapshot');
  }
  const old = {
    total: toMajorUnits(order.totalMinor, order.currency),
    lines: order.lines.map((line) => ({ sku: line.sku, quantity: line.quantity, unitPrice: toMajorUnits(line.unitPriceMinor, order.currency) })),
  };
  if (plan.version >= 2) {
    const money = (minor: number): Money => ({ minor, currency: order.currency });
    set['totalMoney'] = money(order.totalMinor);
    set['items'] = order.lines.map((line): StoredItem => ({ sku: line.sku, quantity: line.quantity, unitPrice: money(line.unitPriceMinor) }));
    if (plan.writeOld) Object.assign(set, old);
    else unset.push(...OLD_MONEY_FIELDS);
  } else {
    Object.assign(set, old);
    unset.push(...NEW_MONEY_FIELDS);
  }
  return { set, unset };
}

function fromNew(doc: Doc, currency: string): Pick<OrderView, 'lines' | 'total' | 'totalMoney'> | null {
  if (storedMoneyProblem(doc)) return null;
  const totalMoney = doc['totalMoney'] as Money;
  return {
    total: toMajorUnits(totalMoney.minor, currency),
    totalMoney,
    lines: (doc['items'] as StoredItem[]).map((item) => ({ sku: item.sku, quantity: item.quantity, unitPrice: toMajorUnits(item.unitPrice.minor, currency), unitPriceMoney: item.unitPrice })),
  };
}

/** The floats as stored (old clients get exactly what v1 stored), with their minor units where they convert exactly. */
function fromOld(doc: Doc, currency: string): Pick<OrderView, 'lines' | 'total' | 'totalMoney'> | null {
  if (!Array.isArray(doc['lines'])) return null;
  const money = (value: unknown): Money | null => {
    const converted = toMinorUnits(value, currency);
    return converted.ok ? { minor: converted.minor, currency } : null;
  };
  const exact = convertMoney(doc).ok;
  return {
    total: doc['total'] as number,
    totalMoney: exact ? money(doc['total']) : null,
    lines: (doc['lines'] as Doc[]).map((line) => ({
      sku: line['sku'] as string,
      quantity: line['quantity'] as number,
      unitPrice: line['unitPrice'] as number,
      unitPriceMoney: exact ? money(line['unitPrice']) : null,
    })),
  };
}

/**
 * The customer of a stored order: the name parts as stored while they are there (exact), the full name
 * from `customerSnapshot` when read-new is on and it is there; a contracted v3 order gives its parts
 * as customers splits a full name (at the last space).
 */
function readCustomer(doc: Doc, readNew: boolean): CustomerSnapshot {
  const old = oldSnapshot(doc);
  const fresh = newSnapshotProblem(doc) ? null : (doc['customerSnapshot'] as { fullName: string }).fullName;
  if (old && (!readNew || fresh === null)) return { ...old, fullName: joinName(old.firstName, old.lastName) };
  if (fresh !== null) return { ...(old ?? splitName(fresh)), fullName: fresh };
  throw new Error('the stored order has neither customer { firstName, lastName } nor customerSnapshot { fullName }');
}

/**
 * The order in a stored document (v1, v2 with both shapes, or contracted v2). With read-new on, money
 * comes from the minor units; with it off, from the floats. Either way a document lacking the
 * preferred fields (contracted, or not yet backfilled) is read from the others.
 */
export function readOrder(doc: Doc, plan: OrderReadPlan): OrderView {
  const currency = doc['currency'] as string;
  const money = plan.readNew ? (fromNew(doc, currency) ?? fromOld(doc, currency)) : (fromOld(doc, currency) ?? fromNew(doc, currency));
  if (!money) throw new Error('the stored order has neither lines nor well-formed items');
  return {
    customerId: doc['customerId'] as string,
    customer: readCustomer(doc, plan.readNewSnapshot ?? false),
    currency,
    ...money,
    status: doc['status'] as OrderStatus,
  };
}
