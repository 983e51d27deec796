export * from './lib/customer-snapshot';
export * from './lib/money';
export * from './lib/order-money';
export * from './lib/order-status';
export * from './lib/order-shapes';
export * from './lib/orders.migrations';
