import { CURRENCY_EXPONENTS, ORDER_TRANSITIONS, OrderStatus } from '@zdm/orders-domain';
import { ReadProblem, ServiceTraffic, TrafficContext, TrafficMemory } from './traffic';

/** An order as the load remembers it: what must read back (its amount above all). */
export interface OrderValue {
  customerId: string;
  currency: string;
  /** The total in major units, as every API version returns it. */
  total: number;
  status: OrderStatus;
}

/** The orders requests of the load: reads by id, orders placed for existing customers, status changes, a few list pages. */
export const ORDERS_MIX = { 'orders.read': 0.12, 'orders.place': 0.03, 'orders.transition': 0.03, 'orders.list': 0.002 };

/** Prices the load orders at, per currency: what v1 (float major units) and v2 (integer minor units) must both keep exactly. */
const PRICES: Record<string, number[]> = { EUR: [19.99, 0.1, 1234.56, 5], USD: [0.3, 99.95], JPY: [1200, 7], BHD: [1.005, 12.345] };
const CURRENCIES = Object.keys(PRICES);

/** The order to place for `customerId` with write number `seq`: one to three lines of one currency. */
export function orderFor(customerId: string, seq: number, r: number): { customerId: string; currency: string; lines: { sku: string; quantity: number; unitPrice: number }[] } {
  const currency = CURRENCIES[seq % CURRENCIES.length];
  const prices = PRICES[currency];
  const count = 1 + (Math.floor(r * 1000) % 3);
  const lines = Array.from({ length: count }, (_, i) => ({ sku: `SKU-${seq}-${i}`, quantity: 1 + ((seq + i) % 4), unitPrice: prices[(seq + i) % prices.length] }));
  return { customerId, currency, lines };
}

const valueOf = (body: Record<string, unknown> | null): OrderValue | undefined =>
  body && typeof body['customerId'] === 'string' && typeof body['currency'] === 'string' && typeof body['total'] === 'number' && typeof body['status'] === 'string'
    ? { customerId: body['customerId'], currency: body['currency'], total: body['total'], status: body['status'] as OrderStatus }
    : undefined;

/**
 * What is wrong with an order as the API returned it, given its last acknowledged value: another
 * total, currency, customer or status is a lost write; an integer total (`totalMoney`, API 1.1) that
 * is missing or disagrees with the total is inconsistent.
 */
export function checkOrder(expected: OrderValue, body: Record<string, unknown>): ReadProblem | null {
  const got = valueOf(body);
  if (!got || got.total !== expected.total || got.currency !== expected.currency || got.customerId !== expected.customerId || got.status !== expected.status) return 'lost';
  if (!('totalMoney' in body)) return null;
  const amount = (body['totalMoney'] ?? {}) as { minor?: unknown; currency?: unknown };
  const exponent = CURRENCY_EXPONENTS[expected.currency] ?? 2;
  return amount.currency === expected.currency && amount.minor === Math.round(expected.total * 10 ** exponent) ? null : 'inconsistent';
}

/** Orders traffic, starting from the seeded orders; orders are placed for the customers in `options.customerIds`. */
export function ordersTraffic(seeds: readonly [string, Record<string, unknown>][], options: Record<string, unknown>): ServiceTraffic {
  const customerIds = (options['customerIds'] as string[] | undefined) ?? [];
  if (!customerIds.length) throw new Error('orders traffic needs customerIds to place orders for');
  const memory = new TrafficMemory<OrderValue>(seeds, checkOrder);
  const writes = memory.writes;

  return {
    kinds: ['read', 'place', 'transition', 'list'],
    async issue(requested, ctx: TrafficContext) {
      let kind = requested;
      const startedAt = ctx.now();
      let target = writes.pick(ctx.rand());
      if (!target) kind = 'place';
      // A status change needs an order whose status is known, with a next status, and no write in flight.
      let next: OrderStatus | undefined;
      for (let tries = 0; kind === 'transition'; tries++) {
        const known = writes.expected(target as string);
        const options = known ? ORDER_TRANSITIONS[known.status] : [];
        if (options.length && writes.begin(target as string)) {
          // Mostly forward; a cancel now and then.
          next = options.find((s) => s !== 'cancelled' || ctx.rand() < 0.1) ?? options[0];
          break;
        }
        if (tries >= 8) kind = 'read';
        else target = writes.pick(ctx.rand());
      }
      switch (kind) {
        case 'read':
          return memory.read(ctx, kind, target as string, `/orders/${target}`, startedAt);
        case 'list': {
          const customerId = customerIds[Math.floor(ctx.rand() * customerIds.length)];
          const answer = await ctx.send('GET', `/orders?customerId=${customerId}&limit=20`);
          ctx.record(kind, startedAt, answer.status);
          return;
        }
        case 'place': {
          const customerId = customerIds[Math.floor(ctx.rand() * customerIds.length)];
          return memory.create(ctx, kind, '/orders', orderFor(customerId, ctx.seq(), ctx.rand()), valueOf, startedAt);
        }
        case 'transition':
          return memory.update(ctx, kind, target as string, { method: 'POST', path: `/orders/${target}/status`, body: { status: next } }, valueOf, startedAt);
        default:
          throw new Error(`orders traffic has no request kind ${kind}`);
      }
    },
    result: () => memory.result(),
  };
}
