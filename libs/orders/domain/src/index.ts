export * from './lib/order-total';
