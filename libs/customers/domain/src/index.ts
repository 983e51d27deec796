export * from './lib/customer-name';
export * from './lib/customer-status';
export * from './lib/customer-shapes';
export * from './lib/customers.migrations';
