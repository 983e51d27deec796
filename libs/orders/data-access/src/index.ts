export * from './lib/orders.repository';
