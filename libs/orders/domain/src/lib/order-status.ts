/** Where an order is in its life. */
export const ORDER_STATUSES = ['placed', 'paid', 'shipped', 'delivered', 'cancelled'] as const;

export type OrderStatus = (typeof ORDER_STATUSES)[number];

/** The status of a new order. */
export const INITIAL_ORDER_STATUS: OrderStatus = 'placed';

/** The statuses each status may move to: placed → paid → shipped → delivered, and cancelled before shipped. */
export const ORDER_TRANSITIONS: Readonly<Record<OrderStatus, readonly OrderStatus[]>> = Object.freeze({
  placed: ['paid', 'cancelled'],
  paid: ['shipped', 'cancelled'],
  shipped: ['delivered'],
  delivered: [],
  cancelled: [],
});

export function isOrderStatus(value: unknown): value is OrderStatus {
  return typeof value === 'string' && (ORDER_STATUSES as readonly string[]).includes(value);
}

/**
 * Why an order in `from` cannot move to `to`, or undefined when it can. Staying in the same status
 * is allowed (a retried request changes nothing).
 */
export function transitionProblem(from: OrderStatus, to: OrderStatus): string | undefined {
  if (from === to || ORDER_TRANSITIONS[from].includes(to)) return undefined;
  const next = ORDER_TRANSITIONS[from];
  return `an order that is ${from} cannot become ${to}; ${next.length ? `it can become ${next.join(' or ')}` : `${from} is final`}`;
}
