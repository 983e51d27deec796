import type { Doc } from '@zdm/migrations-core';
import { toMajorUnits } from './money';
import { OrderStatus } from './order-status';

/** The customer as the order keeps it, copied from the customers API when the order is placed. */
export interface CustomerSnapshot {
  firstName: string;
  lastName: string;
}

/** One line of an order, prices in integer minor units of the order's currency. */
export interface OrderLine {
  sku: string;
  quantity: number;
  unitPriceMinor: number;
}

/** An order as the service works with it, whatever shape it is stored in. */
export interface Order {
  customerId: string;
  customer: CustomerSnapshot;
  currency: string;
  lines: OrderLine[];
  totalMinor: number;
  status: OrderStatus;
}

/** Σ quantity × unit price in minor units, or undefined when it exceeds 2^53 - 1. */
export function orderTotalMinor(lines: readonly Pick<OrderLine, 'quantity' | 'unitPriceMinor'>[]): number | undefined {
  const total = lines.reduce((sum, line) => sum + BigInt(line.quantity) * BigInt(line.unitPriceMinor), 0n);
  return total <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(total) : undefined;
}

/**
 * What v1 stores for a new order: money as float major units (`total: 19.99`,
 * `lines[].unitPrice`), each the float nearest to the exact amount.
 */
export function storedOrderV1(order: Order): Doc {
  return {
    customerId: order.customerId,
    customer: { firstName: order.customer.firstName, lastName: order.customer.lastName },
    currency: order.currency,
    lines: order.lines.map((line) => ({ sku: line.sku, quantity: line.quantity, unitPrice: toMajorUnits(line.unitPriceMinor, order.currency) })),
    total: toMajorUnits(order.totalMinor, order.currency),
    status: order.status,
  };
}
